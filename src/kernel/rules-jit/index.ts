// The rule compiler behind the kernel's compiled evaluator (assembly/rules/jit.ts): turns the
// active program of a shard memory — its plan and rules sections, exactly as the kernel reads
// them — into a WebAssembly module whose one function evaluates every rule of one device after
// an event, with the interpreter's semantics (assembly/rules/index.ts, docs/rule-vm.md), but
// as straight-line code: thresholds, state offsets, window-cache offsets and bucket widths
// are constants; each feature is computed at most once per evaluation (a local and a flag);
// each window group's cache is checked against τ once. What it does not inline it calls back
// into the kernel for (jitSync, jitFeature, jitMatches, jitEmit, jitAttr), in the
// interpreter's order, so both give the same records and the same state, byte for byte
// (test/rules-jit.test.ts). Ticks stay with the interpreter. A second function, `upkeep`,
// applies each event to the sliding groups of its metric, bucket records and live window
// caches alike (upkeep.ts).
import { MODULE_MAX_PAGES } from '../memory.js';
import { F64, FunctionBody, I32, ModuleWriter } from '../wasm-writer.js';
import { Emitter, PARAMS } from './emitter.js';
import { readProgram } from './read-program.js';
import { SYNC_PARAMS, UPKEEP_PARAMS, UPKEEP_RESULTS, UpkeepEmitter, emitSync } from './upkeep.js';
import { compiledSlides } from './cache-ops.js';

/**
 * The compiled evaluator module of the program active in `memory`; null when the program has
 * no rules. Its exports `evaluate(dev, state, slot, epoch, ts, tau, nowMs)` and
 * `upkeep(dev, metric, ts, v, tau) → late` have the signatures the kernel's call_indirects use; it
 * imports `env.memory` and the kernel's jit* exports as `kernel.*`.
 */
export function compileRulesModule(memory: WebAssembly.Memory): Uint8Array | null {
  const program = readProgram(memory);
  if (!program) return null;
  const m = new ModuleWriter();
  const jitSync = m.importFunction('kernel', 'jitSync', [I32, I32, F64, I32], []);
  m.importFunction('kernel', 'jitFeature', [I32, I32, F64], [F64]);
  m.importFunction('kernel', 'jitMatches', [I32, I32], [I32]);
  m.importFunction('kernel', 'jitEmit', [I32, I32, I32, I32, F64], [I32]);
  m.importFunction('kernel', 'jitAttr', [I32, I32], [F64]);
  m.importSharedMemory('env', 'memory', 1, MODULE_MAX_PAGES);
  // functions: evaluate, upkeep, then one sync per sliding group (indices after the imports)
  const sliding = program.groups.filter(compiledSlides);
  const first = m.importCount() + 2;
  const syncFn = new Map(sliding.map((g, k) => [g.index, first + k]));
  const fn = new FunctionBody(PARAMS);
  const e = new Emitter(fn, program, syncFn);
  program.rules.forEach((r, i) => e.rule(i, r));
  m.addFunction(PARAMS, [], fn, 'evaluate');
  const upkeep = new FunctionBody(UPKEEP_PARAMS);
  new UpkeepEmitter(upkeep).emit(program.groups);
  m.addFunction(UPKEEP_PARAMS, UPKEEP_RESULTS, upkeep, 'upkeep');
  for (const g of sliding) {
    const body = new FunctionBody(SYNC_PARAMS);
    emitSync(body, g, jitSync);
    if (m.addFunction(SYNC_PARAMS, [], body) !== syncFn.get(g.index)) throw new Error('rules compiler: sync function index');
  }
  return m.encode();
}

/** The kernel exports a compiled evaluator calls back. */
export interface JitImports {
  jitSync(group: number, dev: number, tau: number, refill: number): void;
  jitFeature(dev: number, feature: number, nowMs: number): number;
  jitMatches(rule: number, dev: number): number;
  jitEmit(rule: number, what: number, slot: number, epoch: number, ts: number): number;
  jitAttr(dev: number, attr: number): number;
}

/** The compiled functions the kernel's table holds while the program is active. */
export interface RulesEvaluator { evaluate: unknown; upkeep: unknown }

// Compiled modules by their bytes, per thread: every shard of a worker runs the same program.
const modules = new Map<string, WebAssembly.Module>();
const MODULE_CACHE = 16;

/** Compiles and instantiates the evaluator of `memory`'s active program; null when it has no rules. */
export function instantiateRulesEvaluator(memory: WebAssembly.Memory, kernel: JitImports): RulesEvaluator | null {
  const bytes = compileRulesModule(memory);
  if (!bytes) return null;
  const key = Buffer.from(bytes).toString('base64');
  let mod = modules.get(key);
  if (!mod) {
    mod = new WebAssembly.Module(bytes);
    if (modules.size >= MODULE_CACHE) modules.delete(modules.keys().next().value!);
    modules.set(key, mod);
  }
  const { jitSync, jitFeature, jitMatches, jitEmit, jitAttr } = kernel;
  const instance = new WebAssembly.Instance(mod, { env: { memory }, kernel: { jitSync, jitFeature, jitMatches, jitEmit, jitAttr } });
  const { evaluate, upkeep } = instance.exports;
  return evaluate && upkeep ? { evaluate, upkeep } : null;
}
