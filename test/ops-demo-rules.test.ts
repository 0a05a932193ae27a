// The demo fleet exists to make the demo rules fire and clear. This runs the fleet's
// thermostat model through the reference rule engine (the oracle the kernel is tested
// against) with the bundled demo/rules.yaml, on simulated time, and checks every rule
// fires and clears.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STATE_CLEARED, STATE_FIRED } from '../assembly/layout.js';
import { ThermostatModel } from '../src/demo/thermostat-model.js';
import { ReferenceFeatures } from '../src/reference/features.js';
import { ReferenceEngine, type AttrValue, type Transition } from '../src/reference/rules.js';
import { compileRules, NameTables } from '../src/rules/index.js';

const rulesFile = fileURLToPath(new URL('../demo/rules.yaml', import.meta.url));

describe('demo fleet against the demo rules', () => {
  it('makes too-hot, errors-accelerating and device-offline fire and clear', { timeout: 120_000 }, () => {
    const tables = new NameTables();
    const compiled = compileRules(readFileSync(rulesFile, 'utf8'), { tables, version: 1 });
    if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
    const spec = compiled.spec;
    const metric = (name: string): number => spec.metrics.indexOf(name);
    const temperature = metric('temperature');
    const error = metric('error');
    expect(temperature).toBeGreaterThanOrEqual(0);
    expect(error).toBeGreaterThanOrEqual(0);

    // The reference model recomputes from every stored event, so rather than hours of a
    // whole fleet it replays, per episode kind, one device from two minutes before its first
    // episode of that kind to five minutes after it ends.
    const plans: Array<{ seed: number; start: number; end: number }> = [];
    for (const kind of ['overheat', 'errors', 'silent'] as const) {
      let found: { seed: number; start: number; end: number } | null = null;
      for (let seed = 2000; seed < 2200 && found === null; seed++) {
        const m = new ThermostatModel(seed);
        let start = -1;
        for (let s = 0; s < 6 * 3600; s++) {
          m.step(1);
          if (start < 0 && m.currentMode === kind && s >= 120) start = s;
          if (start >= 0 && m.currentMode !== kind) {
            found = { seed, start: start - 120, end: s + 300 };
            break;
          }
        }
      }
      expect(found, kind).not.toBeNull();
      plans.push(found!);
    }

    const seen = new Map<string, { fired: number; cleared: number }>();
    for (const r of spec.rules) seen.set(r.id, { fired: 0, cleared: 0 });
    const record = (ts: Transition[]): void => {
      for (const t of ts) {
        const s = seen.get(spec.rules[t.rule]!.id)!;
        if (t.state === STATE_FIRED) s.fired++;
        if (t.state === STATE_CLEARED) s.cleared++;
      }
    };
    const humidity = metric('humidity'); // -1: no rule reads it
    const t0 = 1_763_800_000_000;
    for (const plan of plans) {
      const engine = new ReferenceEngine(spec, (s) => new ReferenceFeatures(s));
      const m = new ThermostatModel(plan.seed);
      const attrs = new Map<number, AttrValue>();
      for (const [k, v] of Object.entries(m.attrs)) {
        attrs.set(tables.attr(k), typeof v === 'number' ? { kind: 'number', value: v } : { kind: 'string', value: tables.string(v) });
      }
      engine.setAttrs(0, attrs);
      for (let s = 0; s < plan.end; s++) {
        const r = m.step(1);
        if (s < plan.start) continue; // same model state as in the scan, nothing fed yet
        const now = t0 + s * 1000;
        if (r !== null) {
          record(engine.apply(0, temperature, now, r.temperature, now));
          if (humidity >= 0) record(engine.apply(0, humidity, now, r.humidity, now));
          for (let e = 0; e < r.errors; e++) record(engine.apply(0, error, now, 1, now));
        }
        record(engine.tick(now));
      }
    }
    for (const [id, s] of seen) {
      expect(s.fired, `${id} fired`).toBeGreaterThan(0);
      expect(s.cleared, `${id} cleared`).toBeGreaterThan(0);
    }
  });
});
