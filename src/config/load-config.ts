import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DamperError, ERR_CONFIG } from '../errors.js';
import { parseDuration } from './duration.js';
import { CONFIG_KEYS, type ConfigKey } from './keys.js';
import { DEFAULT_CONFIG, type DamperConfig } from './options.js';

export interface ConfigSources {
  /** Path of the YAML file (`--config`), if any. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Flag values by flag name (without `--`). */
  flags?: Record<string, string | boolean>;
  cwd?: string;
}

/**
 * Resolves the configuration: flag > environment > file > default. Relative paths from
 * the file resolve against the file's directory; from flags and environment against cwd.
 */
export function loadConfig(src: ConfigSources): DamperConfig {
  const cwd = src.cwd ?? process.cwd();
  const env = src.env ?? {};
  const flags = src.flags ?? {};
  const cfg: DamperConfig = structuredClone(DEFAULT_CONFIG);
  cfg.allowUwsFallback = flags['allow-uws-fallback'] === true;
  cfg.demoMode = flags.demo === true;

  const filePath = src.file ?? (typeof env.DAMPER_CONFIG === 'string' && env.DAMPER_CONFIG !== '' ? env.DAMPER_CONFIG : undefined);
  let fileDoc: Record<string, unknown> = {};
  let fileDir = cwd;
  if (filePath !== undefined) {
    const abs = resolve(cwd, filePath);
    fileDir = dirname(abs);
    let text: string;
    try {
      text = readFileSync(abs, 'utf8');
    } catch (e) {
      throw new DamperError(ERR_CONFIG, `cannot read config file ${abs}: ${(e as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (e) {
      throw new DamperError(ERR_CONFIG, `${abs}: ${(e as Error).message}`);
    }
    if (doc != null && (typeof doc !== 'object' || Array.isArray(doc))) throw new DamperError(ERR_CONFIG, `${abs}: expected a mapping of sections`);
    fileDoc = (doc ?? {}) as Record<string, unknown>;
  }

  if (cfg.demoMode) {
    cfg.demo.fleet = 25;
    cfg.rules.file = resolve(packageRoot(), 'demo/rules.yaml');
  }

  for (const key of CONFIG_KEYS) {
    const flag = flags[key.flag];
    const envVal = env[key.env];
    const fileVal = lookup(fileDoc, key.path);
    if (flag !== undefined && flag !== true) apply(cfg, key, flag, cwd);
    else if (envVal !== undefined && envVal !== '') apply(cfg, key, envVal, cwd);
    else if (fileVal !== undefined && fileVal !== null) apply(cfg, key, fileVal, fileDir);
    else if (flag === true) throw new DamperError(ERR_CONFIG, `--${key.flag} needs a value`);
  }
  if (cfg.engine.tickMs < 10) throw new DamperError(ERR_CONFIG, `engine.tick: at least 10ms, got ${cfg.engine.tickMs}ms`);
  return cfg;
}

/** The directory holding package.json (dist/src/config → ../../..). */
export function packageRoot(): string {
  return resolve(dirname(new URL(import.meta.url).pathname), '../../..');
}

function lookup(doc: Record<string, unknown>, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur == null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function apply(cfg: DamperConfig, key: ConfigKey, raw: unknown, baseDir: string): void {
  const value = convert(key, raw, baseDir);
  switch (key.path) {
    case 'listen.host': cfg.listen.host = value as string; break;
    case 'listen.port': cfg.listen.port = value as number; break;
    case 'data.dir': cfg.data.dir = value as string; break;
    case 'rules.file': cfg.rules.file = value as string; break;
    case 'engine.workers': cfg.engine.workers = value as number; break;
    case 'engine.shards': cfg.engine.shards = value as number; break;
    case 'engine.tick': cfg.engine.tickMs = value as number; break;
    case 'engine.buckets': cfg.engine.buckets = value as number; break;
    case 'limits.maxFrameBytes': cfg.limits.maxFrameBytes = value as number; break;
    case 'limits.maxFramesPerSecond': cfg.limits.maxFramesPerSecond = value as number; break;
    case 'auth.devices': cfg.auth.devices = value as 'open' | 'token'; break;
    case 'auth.adminToken': cfg.auth.adminToken = value as string; break;
    case 'demo.fleet': cfg.demo.fleet = value as number; break;
    case 'actions.retention.maxAge': cfg.actions.retention.maxAgeMs = value as number; break;
    case 'actions.retention.maxRecords': cfg.actions.retention.maxRecords = value as number; break;
  }
}

function convert(key: ConfigKey, raw: unknown, baseDir: string): string | number {
  const where = key.path;
  switch (key.kind) {
    case 'string':
      if (typeof raw === 'string' || typeof raw === 'number') return String(raw);
      break;
    case 'path':
      if (typeof raw === 'string') return raw === '' ? '' : resolve(baseDir, raw);
      break;
    case 'port':
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
      const max = key.kind === 'port' ? 65535 : Number.MAX_SAFE_INTEGER;
      if (Number.isInteger(n) && n >= (key.min ?? 0) && n <= max) return n;
      break;
    }
    case 'duration':
      return parseDuration(raw, where);
    case 'devices':
      if (raw === 'open' || raw === 'token') return raw;
      break;
  }
  throw new DamperError(ERR_CONFIG, `${where}: invalid value ${JSON.stringify(raw)}`);
}
