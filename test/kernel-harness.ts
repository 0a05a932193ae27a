// Test harness over a real shard memory and the real WASM kernel (no mocks).
import * as L from '../assembly/layout.js';
import { createShardMemory, type ShardLayout } from '../src/kernel/memory.js';
import { instantiateKernel, readCounters, type KernelExports } from '../src/kernel/kernel.js';
import { encodeProgram, inactiveProgramSlot, writeProgram } from '../src/kernel/program.js';
import { FeatureFn, type FeatureSpec, type ProgramSpec } from '../src/kernel/program-spec.js';

export type Ev = [slot: number, metric: number, ts: number, value: number];

export const T0 = 1_700_000_000_000;

const UNIT: Array<[number, string]> = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1000, 's'], [1, 'ms']];
function duration(ms: number): string {
  const [u, s] = UNIT.find(([u]) => ms % u === 0)!;
  return `${ms / u}${s}`;
}
const FN_NAME: Record<number, string> = {
  1: 'last', 2: 'count', 3: 'sum', 4: 'avg', 5: 'min', 6: 'max', 7: 'stddev', 8: 'delta', 9: 'rate',
  10: 'deriv', 11: 'deriv2', 12: 'rate_deriv', 13: 'rate_deriv2', 14: 'ewma', 15: 'age',
};

/** A FeatureSpec with its SPEC §4.1 canonical text. */
export function feat(fn: FeatureFn, metric: number, metrics: string[], windowMs = 0, bucketMs = windowMs / 20, halfLifeMs = 0): FeatureSpec {
  const m = metrics[metric];
  let canonical: string;
  if (fn === FeatureFn.Last || fn === FeatureFn.Age) canonical = `${FN_NAME[fn]}(${m})`;
  else if (fn === FeatureFn.Ewma) canonical = `ewma(${m}, ${duration(halfLifeMs)})`;
  else canonical = `${FN_NAME[fn]}(${m}, ${duration(windowMs)}${bucketMs * 20 === windowMs ? '' : `, ${duration(bucketMs)}`})`;
  const windowed = fn !== FeatureFn.Last && fn !== FeatureFn.Age && fn !== FeatureFn.Ewma;
  return { fn, metric, windowMs: windowed ? windowMs : 0, bucketMs: windowed ? bucketMs : 0, halfLifeMs, canonical };
}

export function programSpec(metrics: string[], features: FeatureSpec[], version = 1): ProgramSpec {
  return { version, metrics, attrs: [], strings: [], features, rules: [] };
}

export class KernelHarness {
  readonly memory: WebAssembly.Memory;
  readonly layout: ShardLayout;
  readonly k: KernelExports;
  private epoch = 0;
  private spec: ProgramSpec | null = null;

  constructor(spec: ProgramSpec | null, opts: { batchEvents?: number } = {}) {
    const { memory, layout } = createShardMemory({ ringBytes: 1 << 16, outboxBytes: 1 << 16, programBytes: 1 << 20, batchEvents: opts.batchEvents ?? 1024, initialArenaPages: 1 });
    this.memory = memory;
    this.layout = layout;
    this.k = instantiateKernel(memory);
    if (spec) this.install(spec);
  }

  /** Writes the program into the inactive slot and switches to it (migrating from the current one). */
  install(spec: ProgramSpec): void {
    const slot = inactiveProgramSlot(this.memory);
    writeProgram(this.memory, slot, encodeProgram(spec, ++this.epoch, this.spec));
    this.k.switchProgram(slot);
    this.spec = spec;
  }

  apply(events: Ev[], nowMs = 0): number {
    let done = 0;
    while (done < events.length) {
      const n = Math.min(events.length - done, this.layout.batchCap);
      const v = new DataView(this.memory.buffer, this.layout.batchBase, n * L.BATCH_EVENT_BYTES);
      for (let i = 0; i < n; i++) {
        const [slot, metric, ts, value] = events[done + i];
        const at = i * L.BATCH_EVENT_BYTES;
        v.setUint32(at + L.BE_SLOT, slot, true);
        v.setUint32(at + L.BE_METRIC, metric, true);
        v.setFloat64(at + L.BE_TS, ts, true);
        v.setFloat64(at + L.BE_VALUE, value, true);
      }
      const reached = this.k.applyBatch(0, n, nowMs);
      if (reached !== n) throw new Error(`applyBatch stopped at ${reached} of ${n}`);
      done += n;
    }
    return done;
  }

  value(slot: number, feature: number, nowMs = 0): number {
    return this.k.featureValue(slot, feature, nowMs);
  }

  /** The rule VM's path: through the window cache, which this may fill. */
  cached(slot: number, feature: number, nowMs = 0): number {
    return this.k.queryFeature(slot, feature, nowMs);
  }

  counters() {
    return readCounters(this.memory);
  }
}

/** SPEC §4.2 tolerance check: NaN matches NaN, infinities match exactly. */
export function close(actual: number, expected: number, rel: number, abs: number): boolean {
  if (Number.isNaN(expected) || Number.isNaN(actual)) return Number.isNaN(expected) && Number.isNaN(actual);
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return actual === expected;
  return Math.abs(actual - expected) <= rel * Math.abs(expected) + abs;
}
