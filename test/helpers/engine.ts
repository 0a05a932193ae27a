// Start a real engine for tests: in-process (fast, direct access to the Engine) or as a
// child process running `node bin/damper.js start` (signals, exit codes, restarts).
// Both listen on a free port and use a fresh temp data dir unless one is given.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load-config.js';
import { Engine, type EngineHooks } from '../../src/engine/engine.js';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface EngineOptions {
  /** Rules YAML text (written to a temp file) … */
  rules?: string;
  /** … or an existing rules file. */
  rulesFile?: string;
  /** Reuse a data dir (e.g. to test restarts); default: a fresh temp dir, removed by stop(). */
  dataDir?: string;
  /** More flags of `damper start`, e.g. { shards: 2, 'auth-devices': 'token', 'admin-token': 's' }. */
  flags?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
  /** In-process only: engine hooks such as a small `shardMemory.ringBytes`. */
  hooks?: EngineHooks;
}

export interface TestEngine {
  /** http://127.0.0.1:PORT */
  url: string;
  /** ws://127.0.0.1:PORT */
  wsUrl: string;
  port: number;
  dataDir: string;
  rulesFile: string;
}

export interface InProcessEngine extends TestEngine {
  engine: Engine;
  /** Drains and stops the engine; removes the data dir when the helper created it. */
  stop(): Promise<void>;
}

function prepare(opts: EngineOptions): { dataDir: string; rulesFile: string; owned: string | null } {
  const tmp = mkdtempSync(join(tmpdir(), 'damper-test-'));
  const dataDir = opts.dataDir ?? join(tmp, 'data');
  let rulesFile = opts.rulesFile ?? '';
  if (opts.rules !== undefined) {
    rulesFile = join(tmp, 'rules.yaml');
    writeFileSync(rulesFile, opts.rules);
  }
  return { dataDir, rulesFile, owned: tmp };
}

function flagStrings(opts: EngineOptions, dataDir: string, rulesFile: string): Record<string, string | boolean> {
  const flags: Record<string, string | boolean> = { port: '0', host: '127.0.0.1', data: dataDir, rules: rulesFile };
  for (const [k, v] of Object.entries(opts.flags ?? {})) flags[k] = typeof v === 'boolean' ? v : String(v);
  return flags;
}

/** A real engine in this process. */
export async function startEngine(opts: EngineOptions = {}): Promise<InProcessEngine> {
  const { dataDir, rulesFile, owned } = prepare(opts);
  const config = loadConfig({ env: opts.env ?? {}, flags: flagStrings(opts, dataDir, rulesFile) });
  if (rulesFile === '') config.rules.file = '';
  const engine = new Engine(config, { log: () => undefined, ...opts.hooks });
  await engine.start();
  return {
    engine,
    url: engine.url,
    wsUrl: engine.url.replace(/^http/, 'ws'),
    port: engine.port,
    dataDir,
    rulesFile,
    async stop() {
      if (engine.state === 'ready') await engine.stop();
      if (owned !== null && opts.dataDir === undefined) rmSync(owned, { recursive: true, force: true });
    },
  };
}

export interface EngineProcess extends TestEngine {
  child: ChildProcess;
  /** Everything the process printed so far. */
  stdout(): string;
  stderr(): string;
  /** Sends a signal and resolves with the exit code. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** `node bin/damper.js start --port 0 …` as a child; resolves once it printed its listening line. */
export async function startEngineProcess(opts: EngineOptions = {}, timeoutMs = 20_000): Promise<EngineProcess> {
  const { dataDir, rulesFile } = prepare(opts);
  const args = [join(PACKAGE_ROOT, 'bin/damper.js'), 'start'];
  for (const [k, v] of Object.entries(flagStrings(opts, dataDir, rulesFile))) {
    if (v === true) args.push(`--${k}`);
    else if (v !== false) args.push(`--${k}`, v);
  }
  const child = spawn(process.execPath, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`engine did not start in ${timeoutMs} ms:\n${out}\n${err}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /damper listening on http:\/\/[^:\s]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`engine exited with ${code} before listening:\n${out}\n${err}`));
    });
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    dataDir,
    rulesFile,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
