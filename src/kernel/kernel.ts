// Loading the WASM kernel: one compiled module per thread, one instance per shard memory.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as L from '../../assembly/layout.js';
import { DamperError } from '../errors.js';
import { instantiateRulesEvaluator, type JitImports, type RulesEvaluator } from './rules-jit/index.js';

/** Exports of build/damper.wasm (docs/internals.md, "Kernel exports"). */
export interface KernelExports {
  init(): void;
  /**
   * Applies batch events [from, to); returns the first index not applied (outbox full). Rules
   * run through the active program's compiled evaluator when this instance has one (below).
   */
  applyBatch(from: number, to: number, nowMs: number): number;
  /** Evaluates age rules from `fromSlot`; returns the next slot to do (slot limit when done). */
  tick(fromSlot: number, nowMs: number): number;
  /** Replaces the device's attributes with `n` ATTR_ENTRY_BYTES entries at `ptr` (e.g. the scratch region). */
  setAttrs(slot: number, ptr: number, n: number): void;
  removeDevice(slot: number): void;
  switchProgram(progSlot: number): void;
  /** Feature value at the device clock by a scan; writes nothing (safe from any thread, may be torn during a drain). */
  featureValue(slot: number, feature: number, nowMs: number): number;
  /** The same through the device's window cache (fills it): the rule VM's path; draining task only. */
  queryFeature(slot: number, feature: number, nowMs: number): number;
  ruleState(slot: number, rule: number): number;
  deviceClock(slot: number): number;
  deviceAttr(slot: number, attr: number): number;
  deviceAttrIs(slot: number, attr: number, kind: number, value: number): number;
  outboxReserve(bytes: number): number;
}

const ERR_KERNEL_LOAD = 'DAMPER_ERR_KERNEL_LOAD';

/** Directory holding package.json, walking up from this file (src/kernel or dist/src/kernel). */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new DamperError(ERR_KERNEL_LOAD, `no package.json above ${from}`);
    dir = up;
  }
}

export function kernelWasmPath(): string {
  return join(packageRoot(), 'build', 'damper.wasm');
}

let compiled: WebAssembly.Module | null = null;

/** The kernel module, compiled synchronously once per thread. */
export function kernelModule(): WebAssembly.Module {
  if (compiled) return compiled;
  const path = kernelWasmPath();
  if (!existsSync(path)) throw new DamperError(ERR_KERNEL_LOAD, `${path} is missing: run npm run build:wasm`);
  compiled = new WebAssembly.Module(readFileSync(path));
  return compiled;
}

export interface KernelOptions {
  /**
   * Evaluate rules after events with a compiled evaluator of the active program
   * (src/kernel/rules-jit/) instead of the interpreter. Default: on, unless the
   * environment sets DAMPER_RULES_JIT=0. Builds without the jit exports always interpret.
   */
  rulesJit?: boolean;
}

/** The raw exports: applyBatch takes the jit flag, the table holds the compiled evaluator. */
type RawExports = Omit<KernelExports, 'applyBatch'> & JitImports & {
  applyBatch(from: number, to: number, nowMs: number, jit: number): number;
  table?: FunctionTable;
};

/** The parts of a WebAssembly.Table of functions used here (Node's types do not declare Table). */
interface FunctionTable { readonly length: number; grow(delta: number): number; set(index: number, value: unknown): void }


/**
 * Instantiates the kernel over a shard memory (header already written) and runs init().
 * `module`: another build of the kernel (bench/rules-ab.ts compares two in one process).
 */
export function instantiateKernel(memory: WebAssembly.Memory, module: WebAssembly.Module = kernelModule(), opts: KernelOptions = {}): KernelExports {
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort(_msg: number, _file: number, line: number, col: number): never {
        throw new DamperError('DAMPER_ERR_KERNEL_ABORT', `kernel abort at ${line}:${col}`);
      },
    },
  });
  const raw = instance.exports as unknown as RawExports;
  const jit = (opts.rulesJit ?? process.env.DAMPER_RULES_JIT !== '0') && raw.table !== undefined && typeof raw.jitEmit === 'function';
  const k: KernelExports = { ...raw, applyBatch: jit ? jitApply(memory, raw) : (from, to, nowMs) => raw.applyBatch(from, to, nowMs, 0) };
  k.init();
  return k;
}

/**
 * applyBatch with the compiled evaluator: before each call, if a program switch happened
 * since this instance compiled one (H_PROGRAM_SWITCHES, shared by every thread that drains
 * the shard), the active program's evaluator is compiled and put into the table; a program
 * without rules runs none. Once per call, not per event: the hot path stays in the kernel.
 */
function jitApply(memory: WebAssembly.Memory, raw: RawExports): KernelExports['applyBatch'] {
  const header = new Int32Array(memory.buffer, L.HEADER_BASE, L.H_KERNEL_PRIVATE / 4);
  let installed = -1, epoch = -1, slot = -2, active = 0;
  return (from, to, nowMs) => {
    const switches = header[L.H_PROGRAM_SWITCHES / 4];
    if (switches !== installed || header[L.H_ACTIVE_EPOCH / 4] !== epoch || header[L.H_ACTIVE_PROG / 4] !== slot) {
      installed = switches;
      epoch = header[L.H_ACTIVE_EPOCH / 4];
      slot = header[L.H_ACTIVE_PROG / 4];
      let evaluate: RulesEvaluator | null = null;
      try {
        evaluate = instantiateRulesEvaluator(memory, raw);
      } catch (err) {
        // a program the compiler cannot take runs interpreted, the same rules with the same results
        process.emitWarning(`rules of program epoch ${epoch} run interpreted: ${(err as Error).message}`, { code: 'DAMPER_RULES_JIT' });
      }
      active = evaluate ? 1 : 0;
      if (evaluate) {
        const table = raw.table!;
        if (table.length <= L.JIT_UPKEEP_SLOT) table.grow(L.JIT_UPKEEP_SLOT + 1 - table.length);
        table.set(L.JIT_SLOT, evaluate.evaluate);
        table.set(L.JIT_UPKEEP_SLOT, evaluate.upkeep);
      }
    }
    return raw.applyBatch(from, to, nowMs, active);
  };
}

const instances = new WeakMap<WebAssembly.Memory, KernelExports>();

/** The calling thread's cached instance for a shard memory. */
export function kernelFor(memory: WebAssembly.Memory): KernelExports {
  let k = instances.get(memory);
  if (!k) {
    k = instantiateKernel(memory);
    instances.set(memory, k);
  }
  return k;
}

export interface KernelCounters {
  eventsApplied: number;
  lateEvents: number;
  transitions: number;
  devices: number;
}

/** The kernel's counters from the header (any thread). */
export function readCounters(memory: WebAssembly.Memory): KernelCounters {
  const h = new Float64Array(memory.buffer, L.HEADER_BASE, 32);
  return {
    eventsApplied: h[L.H_EVENTS_APPLIED / 8],
    lateEvents: h[L.H_LATE_EVENTS / 8],
    transitions: h[L.H_TRANSITIONS / 8],
    devices: h[L.H_DEVICES / 8],
  };
}
