// The demo fleet exists to make the demo rules fire and clear. This runs the fleet's
// thermostat model through the reference rule engine (the oracle the kernel is tested
// against) with the bundled demo/rules.yaml, on simulated time, and checks every rule
// fires and clears.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STATE_CLEARED, STATE_FIRED } from '../assembly/layout.js';
import { ThermostatModel } from '../src/demo/thermostat-model.js';
import type { ProgramSpec } from '../src/kernel/program-spec.js';
import { ReferenceEngine, type AttrValue, type FeatureStore, type Transition } from '../src/reference/rules.js';
import { compileRules, NameTables } from '../src/rules/index.js';

const featuresFile = fileURLToPath(new URL('../src/reference/features.ts', import.meta.url));
const rulesFile = fileURLToPath(new URL('../demo/rules.yaml', import.meta.url));
const missing = !existsSync(featuresFile) ? 'src/reference/features.ts has not landed yet' : '';

describe('demo fleet against the demo rules', () => {
  it.skipIf(missing !== '')('makes too-hot, errors-accelerating and device-offline fire and clear', async () => {
    const { ReferenceFeatures } = (await import('../src/reference/features.js')) as {
      ReferenceFeatures: new (spec: ProgramSpec) => FeatureStore;
    };
    const tables = new NameTables();
    const compiled = compileRules(readFileSync(rulesFile, 'utf8'), { tables, version: 1 });
    if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
    const spec = compiled.spec;
    const engine = new ReferenceEngine(spec, (s) => new ReferenceFeatures(s));
    const metric = (name: string): number => spec.metrics.indexOf(name);
    const temperature = metric('temperature');
    const error = metric('error');
    expect(temperature).toBeGreaterThanOrEqual(0);
    expect(error).toBeGreaterThanOrEqual(0);

    const devices = 12;
    const models: ThermostatModel[] = [];
    for (let i = 0; i < devices; i++) {
      const m = new ThermostatModel(2000 + i);
      models.push(m);
      const attrs = new Map<number, AttrValue>();
      for (const [k, v] of Object.entries(m.attrs)) {
        attrs.set(tables.attr(k), typeof v === 'number' ? { kind: 'number', value: v } : { kind: 'string', value: tables.string(v) });
      }
      engine.setAttrs(i, attrs);
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
    for (let s = 0; s < 3 * 3600; s++) {
      const now = t0 + s * 1000;
      for (let i = 0; i < devices; i++) {
        const r = models[i]!.step(1);
        if (r === null) continue;
        record(engine.apply(i, temperature, now, r.temperature, now));
        if (humidity >= 0) record(engine.apply(i, humidity, now, r.humidity, now));
        for (let e = 0; e < r.errors; e++) record(engine.apply(i, error, now, 1, now));
      }
      record(engine.tick(now));
    }
    for (const [id, s] of seen) {
      expect(s.fired, `${id} fired`).toBeGreaterThan(0);
      expect(s.cleared, `${id} cleared`).toBeGreaterThan(0);
    }
  });
});
