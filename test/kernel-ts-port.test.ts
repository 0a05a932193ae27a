// The TypeScript port (benchmark baseline) runs the kernel's algorithm: same values as the WASM kernel.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as L from '../assembly/layout.js';
import { encodeProgram } from '../src/kernel/program.js';
import { FeatureFn as F } from '../src/kernel/program-spec.js';
import { TsPortKernel } from '../src/kernel/ts-port.js';
import { KernelHarness, T0, feat, programSpec, type Ev } from './kernel-harness.js';

describe('TypeScript port of the bucket algorithm', () => {
  const M = ['a', 'b'];
  const features = [F.Count, F.Sum, F.Avg, F.Min, F.Max, F.Rate].flatMap((fn) => [feat(fn, 0, M, 10_000, 1000), feat(fn, 1, M, 6000, 2000)]);
  const spec = programSpec(M, [...features, feat(F.Deriv2, 0, M, 10_000, 1000), feat(F.Ewma, 1, M, 0, 0, 1000), feat(F.Last, 0, M)]);

  it('agrees with the WASM kernel on random streams', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.constantFrom(0, 1, L.NO_METRIC), fc.integer({ min: -3000, max: 2000 }), fc.integer({ min: -99, max: 99 })), { minLength: 1, maxLength: 80 }), (steps) => {
        const h = new KernelHarness(spec);
        const port = new TsPortKernel(encodeProgram(spec, 1, null), 4);
        let t = T0;
        const evs: Ev[] = steps.map(([slot, metric, dt, v]) => [slot, metric, (t += dt), v]);
        h.apply(evs, 0);
        const buf = new ArrayBuffer(evs.length * L.BATCH_EVENT_BYTES);
        const dv = new DataView(buf);
        evs.forEach(([slot, metric, ts, v], i) => {
          dv.setUint32(i * 24, slot, true); dv.setUint32(i * 24 + 4, metric, true);
          dv.setFloat64(i * 24 + 8, ts, true); dv.setFloat64(i * 24 + 16, v, true);
        });
        port.applyBatch(buf, 0, evs.length, 0);
        expect(port.lateEvents).toBe(h.counters().lateEvents);
        for (let slot = 0; slot <= 40; slot++) {
          features.forEach((f, i) => {
            const a = h.value(slot, i);
            const b = port.featureValue(slot, i);
            if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)) || (Number.isNaN(b) && a === 0 && h.k.deviceClock(slot) !== h.k.deviceClock(slot)))) {
              throw new Error(`slot ${slot} ${f.canonical}: wasm ${a} port ${b}`);
            }
          });
        }
      }),
      { numRuns: 40 },
    );
  });
});
