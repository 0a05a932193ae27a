// The peer baseline's incremental windows must mean what the reference model means, or
// the Damper / peer ratio would compare different work.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NameTables, compileRules } from '../src/rules/index.js';
import { ReferenceFeatures } from '../src/reference/features.js';
import { WindowFeatures } from '../bench/peer/window-features.js';

const RULES = `
rules:
  - id: a
    when: avg(temperature, 1m) > 70 and rate(error, 2m) > 0.1 and rate_deriv(error, 2m) > 0
    actions: [x]
  - id: b
    when: age(temperature) > 30 or mark > 0 or count(temperature, 10s) > 3 or sum(temperature, 10s) > 100
    actions: [x]
  - id: c
    when: min(temperature, 10s) < max(temperature, 10s, 500ms)
    actions: [x]
actions:
  x: { kind: stream }
`;

describe('peer window features', () => {
  it('equal the reference model after every event', () => {
    const compiled = compileRules(RULES, { tables: new NameTables(), version: 1 });
    if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
    const spec = compiled.spec;
    const metrics = spec.metrics.length;
    const event = fc.record({
      slot: fc.integer({ min: 0, max: 2 }),
      metric: fc.integer({ min: 0, max: metrics - 1 }),
      dt: fc.integer({ min: -20_000, max: 15_000 }),
      value: fc.double({ min: -100, max: 100, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 80 }), (events) => {
        const ref = new ReferenceFeatures(spec);
        const peer = new WindowFeatures(spec);
        let ts = 1_763_800_000_000;
        let now = ts;
        for (const e of events) {
          ts += e.dt;
          now += 250;
          ref.apply(e.slot, e.metric, ts, e.value, now);
          peer.apply(e.slot, e.metric, ts, e.value, now);
          for (let f = 0; f < spec.features.length; f++) {
            const want = ref.value(e.slot, f, now);
            const got = peer.value(e.slot, f, now);
            if (got === want) continue;
            if (Number.isNaN(want)) expect(got, spec.features[f].canonical).toBeNaN();
            else expect(Math.abs(got - want), spec.features[f].canonical).toBeLessThanOrEqual(1e-9 * Math.abs(want) + 1e-6);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
