// Bad input never crashes the kernel: arbitrary batch bytes, attribute calls and queries.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as L from '../assembly/layout.js';
import { FeatureFn as F } from '../src/kernel/program-spec.js';
import { KernelHarness, feat, programSpec } from './kernel-harness.js';

describe('kernel under arbitrary input', () => {
  const M = ['a', 'b'];
  const spec = programSpec(M, [
    ...[F.Count, F.Avg, F.Stddev, F.Delta, F.Deriv, F.Deriv2, F.RateDeriv2].map((fn) => feat(fn, 0, M, 4000, 1000)),
    feat(F.Ewma, 1, M, 0, 0, 500), feat(F.Last, 1, M), feat(F.Age, 0, M),
  ]);
  const slotArb = fc.oneof(fc.integer({ min: 0, max: 50 }), fc.nat({ max: 0xffffffff }));
  const numArb = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 5e-324, 1.7e12, 1e16, -1e16));

  it('applies or skips every event, and every query answers a number', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(slotArb, fc.oneof(fc.constantFrom(0, 1, L.NO_METRIC), fc.nat({ max: 0xffffffff })), numArb, numArb), { minLength: 1, maxLength: 40 }), (evs) => {
        const h = new KernelHarness(spec, { batchEvents: 64 });
        expect(h.apply(evs, 1000)).toBe(evs.length);
        for (const [slot] of evs) {
          for (let f = -1; f <= spec.features.length; f++) {
            expect(typeof h.value(slot, f, 2000)).toBe('number');
            expect(typeof h.cached(slot, f, 2000)).toBe('number');
          }
          expect(typeof h.k.deviceClock(slot)).toBe('number');
        }
        const applied = h.counters().eventsApplied;
        const valid = evs.filter(([slot, , ts, v]) => slot < 2 ** 24 && Math.abs(ts) < 1e16 && Number.isFinite(v)).length;
        expect(applied).toBe(valid);
      }),
      { numRuns: 60 },
    );
  });

  it('ignores attribute calls with bad pointers or counts', () => {
    const h = new KernelHarness(spec);
    h.k.setAttrs(1, 0xfffffff0, 4);
    h.k.setAttrs(1, h.layout.scratchBase, -1);
    h.k.setAttrs(2 ** 30, h.layout.scratchBase, 1);
    h.k.removeDevice(0xffffffff);
    h.k.removeDevice(12345);
    expect(Number.isNaN(h.k.deviceAttr(1, 0))).toBe(true);
    expect(h.counters().devices).toBe(0);
    expect(h.k.tick(-5, 0)).toBe(0);
  });
});
