// RuleManager: owns the running rule set and its version. Every change goes through
// `replace`: compile against the running program, hand the program to the runtime's
// `install` (which writes it into every shard and resolves once it is active
// everywhere), then commit. Replacements run one at a time, and a rejected or failed
// set leaves the running one untouched (SPEC §4.4).

import { readFile } from 'node:fs/promises';
import type { ActionDefinition } from '../actions/types.js';
import { DamperError } from '../errors.js';
import type { ProgramSpec } from '../kernel/program-spec.js';
import { compileRules } from './compile-rules.js';
import { NameTables } from './name-tables.js';
import type { ReplaceResult, ValidateResult } from './results.js';
import type { RulesSummary } from './summary.js';
import { RulesWatcher, type WatchHandlers } from './rules-watcher.js';

export type { ReplaceResult, ValidateResult } from './results.js';

export interface ActiveRules {
  /** 0 before the first accepted set. */
  version: number;
  yaml: string;
  spec: ProgramSpec;
  actions: Record<string, ActionDefinition>;
  /** null for version 0. */
  summary: RulesSummary | null;
}

/**
 * Installs `spec` into every shard, resolving once it is active everywhere. `prev` is the
 * program it replaces (null before the first set), for state migration.
 */
export type InstallFn = (spec: ProgramSpec, prev: ProgramSpec | null) => Promise<void>;

export interface RuleManagerOptions {
  /** The engine's name tables (one for its whole life). */
  tables: NameTables;
  install: InstallFn;
  /** Why a compiled set cannot be installed (e.g. too large for the program slot), or null; checked by validate and replace. */
  fits?: (spec: ProgramSpec, prev: ProgramSpec | null) => string | null;
  /** Buckets per window when a feature gives no bucket width (`engine.buckets`, default 20). */
  defaultBuckets?: number;
}


export class RuleManager {
  private current: ActiveRules;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly watchers = new Set<RulesWatcher>();
  private readonly tables: NameTables;
  private readonly install: InstallFn;
  private readonly fits: ((spec: ProgramSpec, prev: ProgramSpec | null) => string | null) | undefined;
  private readonly defaultBuckets: number;

  constructor(options: RuleManagerOptions) {
    if (typeof options?.install !== 'function') throw new DamperError('DAMPER_ERR_RULES_OPTIONS', 'RuleManager needs an install function');
    if (!(options.tables instanceof NameTables)) throw new DamperError('DAMPER_ERR_RULES_OPTIONS', 'RuleManager needs NameTables');
    this.tables = options.tables;
    this.install = options.install;
    this.fits = options.fits;
    this.defaultBuckets = options.defaultBuckets ?? 20;
    this.current = {
      version: 0,
      yaml: '',
      spec: { version: 0, metrics: [], attrs: [], strings: [], features: [], rules: [] },
      actions: {},
      summary: null,
    };
  }

  /** The running set (replaced as a whole on every accepted change, never mutated). */
  get active(): ActiveRules {
    return this.current;
  }

  get version(): number {
    return this.current.version;
  }

  /**
   * Starts from a set restored from a checkpoint (its program already runs in the shards and
   * the name tables hold its names); only before the first accepted set.
   */
  restore(active: ActiveRules): void {
    if (this.current.version !== 0) throw new DamperError('DAMPER_ERR_RULES_RESTORE', 'rules can only be restored before the first set');
    this.current = active;
  }

  /** Checks a set without installing it or touching the engine's name tables. */
  validate(yaml: string): ValidateResult {
    if (typeof yaml !== 'string') return { ok: false, errors: ['1:1: the rules must be YAML text'] };
    const scratch = new NameTables({ metrics: this.tables.metrics, attrs: this.tables.attrs, strings: this.tables.strings });
    const r = compileRules(yaml, {
      tables: scratch,
      version: this.current.version + 1,
      prevSpec: this.current.version === 0 ? null : this.current.spec,
      defaultBuckets: this.defaultBuckets,
    });
    if (!r.ok) return { ok: false, errors: r.errors };
    const refused = this.fits?.(r.spec, this.current.version === 0 ? null : this.current.spec);
    return refused ? { ok: false, errors: [`1:1: ${refused}`] } : { ok: true, summary: r.summary };
  }

  /**
   * Compiles and installs `yaml` as the next version. Resolves `{ok: false, errors}` for an
   * invalid set (nothing changes), also one that compiles but `fits` refuses (too large for
   * the shards' program slot); rejects when `install` fails (nothing is committed).
   */
  replace(yaml: string): Promise<ReplaceResult> {
    const run = this.queue.then(() => this.replaceNow(yaml));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async replaceNow(yaml: string): Promise<ReplaceResult> {
    if (typeof yaml !== 'string') return { ok: false, errors: ['1:1: the rules must be YAML text'] };
    const prev = this.current.version === 0 ? null : this.current.spec;
    const r = compileRules(yaml, {
      tables: this.tables,
      version: this.current.version + 1,
      prevSpec: prev,
      defaultBuckets: this.defaultBuckets,
    });
    if (!r.ok) return { ok: false, errors: r.errors };
    const refused = this.fits?.(r.spec, prev);
    if (refused) return { ok: false, errors: [`1:1: ${refused}`] };
    try {
      await this.install(r.spec, prev);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      throw new DamperError('DAMPER_ERR_RULES_INSTALL', `installing rules version ${r.spec.version} failed: ${message}`);
    }
    this.current = { version: r.spec.version, yaml, spec: r.spec, actions: r.actions, summary: r.summary };
    return { ok: true, version: r.spec.version, summary: r.summary };
  }

  /** Reads `file` and replaces the running set with it. */
  async load(file: string): Promise<ReplaceResult> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new DamperError('DAMPER_ERR_RULES_FILE', `cannot read rules file ${file}: ${(e as Error).message}`);
    }
    return this.replace(text);
  }

  /**
   * Reloads `file` through `replace` whenever it changes (debounced; follows editors that
   * save by writing a new file and renaming it over the old one). Content equal to the
   * running set, or to a set already rejected, is not reinstalled.
   */
  watch(file: string, handlers: WatchHandlers = {}): RulesWatcher {
    const w = new RulesWatcher(file, {
      reload: (text) => this.replace(text),
      currentText: () => this.current.yaml,
      handlers,
      onClose: () => this.watchers.delete(w),
    });
    this.watchers.add(w);
    return w;
  }

  /** Stops every watcher; the running set stays as it is. */
  close(): void {
    for (const w of [...this.watchers]) w.close();
  }
}
