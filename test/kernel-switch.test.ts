// Program switch: kept features keep their state, new ones (and new accumulators of kept
// groups) start empty; checked by hand and against the reference's switchProgram.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NO_METRIC } from '../assembly/layout.js';
import { FeatureFn as F, type FeatureSpec } from '../src/kernel/program-spec.js';
import { ReferenceFeatures } from '../src/reference/features.js';
import { KernelHarness, close, feat, programSpec, type Ev } from './kernel-harness.js';

const M = ['a', 'b'];
const T = 1_763_800_000_000;

describe('program switch', () => {
  it('keeps kept features, starts new ones empty, and re-lays devices out', () => {
    const v1 = [feat(F.Avg, 0, M, 10_000, 1000), feat(F.Last, 0, M), feat(F.RateDeriv, 0, M, 10_000, 1000)];
    const h = new KernelHarness(programSpec(M, v1));
    h.apply([[0, 0, T, 10], [0, 0, T + 1000, 20], [0, 0, T + 2000, 20], [3, 0, T, 7]]);
    expect(h.value(0, 0)).toBe(50 / 3);
    // v2: a new block (max) in the kept group, a new group, a new scalar; features reordered
    const v2 = [feat(F.Max, 0, M, 10_000, 1000), feat(F.Last, 0, M), feat(F.Count, 0, M, 20_000, 1000), feat(F.Avg, 0, M, 10_000, 1000),
      feat(F.Ewma, 0, M, 0, 0, 1000), feat(F.RateDeriv, 0, M, 10_000, 1000), feat(F.Sum, 1, M, 4000, 1000)];
    h.install(programSpec(M, v2, 2));
    h.k.switchProgram(new Int32Array(h.memory.buffer, 65536, 32)[18]); // again: a no-op
    expect(h.value(0, 3)).toBe(50 / 3);
    expect(h.value(0, 1)).toBe(20);
    expect(h.value(3, 3)).toBe(7);
    expect(Number.isNaN(h.value(0, 0))).toBe(true);
    expect(h.value(0, 2)).toBe(0);
    expect(Number.isNaN(h.value(0, 4))).toBe(true);
    expect(h.value(0, 5)).toBe(0); // kept: completed buckets 0, 1 with rates 1, 1
    h.apply([[0, 0, T + 2500, 5]]);
    expect(h.value(0, 0)).toBe(5); // max sees only events after the switch
    expect(h.value(0, 3)).toBe(55 / 4);
    expect(h.value(0, 2)).toBe(1);
    expect(h.value(0, 4)).toBe(5);
    expect(h.k.deviceClock(0)).toBe(T + 2500);
    // dropping everything and coming back starts from scratch
    h.install(programSpec(M, [feat(F.Sum, 1, M, 4000, 1000)], 3));
    h.install(programSpec(M, v1, 4));
    expect(Number.isNaN(h.value(0, 0))).toBe(true);
    expect(Number.isNaN(h.value(0, 1))).toBe(true);
    expect(h.k.deviceClock(0)).toBe(T + 2500);
  });

  const pool: FeatureSpec[] = [
    ...[F.Count, F.Sum, F.Avg, F.Min, F.Max, F.Stddev, F.Delta, F.Rate, F.Deriv, F.Deriv2, F.RateDeriv, F.RateDeriv2].flatMap((fn) => [
      feat(fn, 0, M, 8000, 1000), feat(fn, 1, M, 4000, 2000),
    ]),
    feat(F.Last, 0, M), feat(F.Last, 1, M), feat(F.Ewma, 0, M, 0, 0, 1500), feat(F.Age, 1, M),
  ];
  const evArb = fc.record({ slot: fc.integer({ min: 0, max: 2 }), metric: fc.constantFrom(0, 1, NO_METRIC), dt: fc.integer({ min: -2500, max: 1500 }), v: fc.integer({ min: -50, max: 50 }) });
  const subsetArb = fc.subarray(pool, { minLength: 1 });

  it('equals the reference across random switches', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(subsetArb, fc.array(evArb, { maxLength: 25 })), { minLength: 1, maxLength: 4 }), (phases) => {
        let t = T;
        let h: KernelHarness | null = null;
        let ref: ReferenceFeatures | null = null;
        phases.forEach(([features, evs], p) => {
          const spec = programSpec(M, features, p + 1);
          if (!h || !ref) {
            h = new KernelHarness(spec);
            ref = new ReferenceFeatures(spec);
          } else {
            h.install(spec);
            ref.switchProgram(spec);
          }
          evs.forEach((e, i) => {
            t += e.dt;
            const ev: Ev = [e.slot, e.metric, t, e.v];
            h!.apply([ev], p * 1000 + i);
            ref!.apply(...ev, p * 1000 + i);
          });
          for (const slot of [0, 1, 2]) {
            features.forEach((f, i) => {
              const a = h!.value(slot, i, 99_999);
              const b = ref!.value(slot, i, 99_999);
              if (!close(a, b, 1e-6, 1e-9)) throw new Error(`phase ${p} slot ${slot} ${f.canonical}: kernel ${a} reference ${b}`);
            });
          }
        });
      }),
      { numRuns: 60 },
    );
  });
});
