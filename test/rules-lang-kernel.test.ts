// The language half meets the kernel half: rule sets written in YAML, compiled by
// compileRules, run in the real WASM kernel and in the reference model on random
// streams (transitions equal record for record), and reloaded with compileRules' keys
// (unchanged rules keep their state in the kernel, changed ones start idle).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NO_METRIC, RS_FIRING, RS_IDLE, STATE_FIRED } from '../assembly/layout.js';
import type { ProgramSpec } from '../src/kernel/program-spec.js';
import { ReferenceFeatures } from '../src/reference/features.js';
import { type AttrValue, ReferenceEngine, type Transition } from '../src/reference/rules.js';
import { compileRules, NameTables } from '../src/rules/index.js';
import { type BatchEvent, diffTransitions, KernelDriver } from './rules-kernel-driver.js';

const T0 = 1_763_800_000_000;

const KITCHEN_SINK = `rules:
  - id: hot
    match: { type: thermostat }
    when: avg(temperature, 10s) > device.setpoint + 4
    for: 2s
    clear: avg(temperature, 10s) < device.setpoint + 2
    cooldown: 5s
  - id: spike
    when: temperature > 90 or abs(delta(temperature, 5s)) >= 20
  - id: trend
    match: { type: [thermostat, pump] }
    when: deriv(temperature, 10s) > 0.5 and not (stddev(temperature, 10s) > 10)
    clear: deriv(temperature, 10s) < 0
  - id: errors
    when: rate(error, 10s, 1s) > 0.3 and rate_deriv(error, 10s, 1s) > 0
  - id: smooth
    when: ewma(temperature, 2s) - min(temperature, 4s) > 3 or deriv2(temperature, 6s) > 1
    cooldown: 3s
  - id: quiet
    when: age(error) > 5 and count(error, 10s) == 0
`;

function compile(yaml: string, tables: NameTables, version: number, prevSpec: ProgramSpec | null = null): ProgramSpec {
  const r = compileRules(yaml, { tables, version, prevSpec });
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.spec;
}

type Step =
  | { kind: 'event'; slot: number; metric: string | null; dt: number; value: number }
  | { kind: 'attrs'; slot: number; type: string | null; setpoint: number | null }
  | { kind: 'tick'; dt: number }
  | { kind: 'flush' };

const METRICS = ['temperature', 'error', 'humidity'];
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('event' as const), slot: fc.integer({ min: 0, max: 2 }), metric: fc.constantFrom<string | null>(...METRICS, null), dt: fc.integer({ min: -800, max: 1500 }), value: fc.oneof({ arbitrary: fc.integer({ min: 55, max: 100 }), weight: 6 }, { arbitrary: fc.constant(1), weight: 1 }) }), weight: 12 },
  { arbitrary: fc.record({ kind: fc.constant('attrs' as const), slot: fc.integer({ min: 0, max: 2 }), type: fc.constantFrom<string | null>('thermostat', 'thermostat', 'pump', null), setpoint: fc.constantFrom<number | null>(68, 72, 72, null) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 3000 }) }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'flush' as const }), weight: 2 },
);

/** Runs the steps through kernel and reference (events batched until a flush); the first disagreement or null. */
function run(spec: ProgramSpec, tables: NameTables, steps: Step[], timeScale: number): { diff: string | null; transitions: number } {
  const kernel = new KernelDriver(spec, { outboxBytes: 4096 });
  const ref = new ReferenceEngine(spec, (s) => new ReferenceFeatures(s));
  const kOut: Transition[] = [];
  const rOut: Transition[] = [];
  const clock = [T0, T0, T0];
  let wall = T0;
  let batch: BatchEvent[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    kOut.push(...kernel.apply(batch, wall));
    for (const e of batch) rOut.push(...ref.apply(e.slot, e.metric, e.ts, e.value, wall));
    batch = [];
  };
  for (const s of steps) {
    if (s.kind === 'event') {
      clock[s.slot] += s.dt * timeScale;
      wall = Math.max(wall, clock[s.slot]);
      // Names no rule reads have no id: the worker sends them as NO_METRIC.
      const id = s.metric === null ? -1 : tables.lookupMetric(s.metric);
      batch.push({ slot: s.slot, metric: id < 0 || id >= spec.metrics.length ? NO_METRIC : id, ts: clock[s.slot], value: s.value });
      if (batch.length >= 16) flush();
    } else if (s.kind === 'flush') {
      flush();
    } else if (s.kind === 'tick') {
      flush();
      wall += s.dt * timeScale;
      kOut.push(...kernel.tick(wall));
      rOut.push(...ref.tick(wall));
    } else {
      flush();
      const attrs = new Map<number, AttrValue>();
      const type = tables.lookupAttr('type');
      const setpoint = tables.lookupAttr('setpoint');
      if (s.type !== null && type >= 0) attrs.set(type, { kind: 'string', value: tables.lookupString(s.type) >= 0 ? tables.lookupString(s.type) : 999 });
      if (s.setpoint !== null && setpoint >= 0) attrs.set(setpoint, { kind: 'number', value: s.setpoint });
      kernel.setAttrs(s.slot, attrs);
      ref.setAttrs(s.slot, attrs);
    }
  }
  flush();
  return { diff: diffTransitions(kOut, rOut), transitions: kOut.length };
}

describe('compiled YAML rules in the kernel', () => {
  // The demo's windows are minutes long: its streams run on a coarser clock.
  it.each([
    ['kitchen sink', KITCHEN_SINK, 1],
    ['demo rules', readFileSync(new URL('../demo/rules.yaml', import.meta.url), 'utf8'), 12],
  ])('%s: kernel transitions equal the reference, record for record', (_name, yaml, timeScale) => {
    const tables = new NameTables();
    const spec = compile(yaml, tables, 1);
    let total = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 60, maxLength: 250 }), (steps) => {
        const r = run(spec, tables, steps, timeScale);
        total += r.transitions;
        if (process.env.DEBUG_RULES_LANG) console.log(_name, steps.length, r.transitions);
        expect(r.diff).toBeNull();
      }),
      { numRuns: Number(process.env.RULES_LANG_RUNS ?? 40) },
    );
    // The streams must exercise the rules, or equality says nothing.
    expect(total).toBeGreaterThan(20);
  });

  it('reload: compiled keys keep unchanged rules firing, changed and new rules start idle', () => {
    const tables = new NameTables();
    const v1 = compile(KITCHEN_SINK, tables, 1);
    const yaml2 = KITCHEN_SINK
      // `hot` reformatted only: same definition.
      .replace('when: avg(temperature, 10s) > device.setpoint + 4', 'when: "avg(temperature,10000ms) > (device.setpoint + 4.0)"')
      // `spike` gets a new threshold; `errors` goes; `cold` is new.
      .replace('temperature > 90', 'temperature > 95')
      .replace(/ {2}- id: errors\n.*\n/, '')
      .concat('  - id: cold\n    when: temperature < 60\n');
    const v2 = compile(yaml2, tables, 2, v1);
    const idx = (spec: ProgramSpec, id: string) => spec.rules.findIndex((r) => r.id === id);
    expect(v2.rules[idx(v2, 'hot')].key).toBe(v1.rules[idx(v1, 'hot')].key);
    expect(v2.rules[idx(v2, 'spike')].key).not.toBe(v1.rules[idx(v1, 'spike')].key);

    const kernel = new KernelDriver(v1);
    const ref = new ReferenceEngine(v1, (s) => new ReferenceFeatures(s));
    const attrs = new Map<number, AttrValue>([
      [tables.lookupAttr('type'), { kind: 'string', value: tables.lookupString('thermostat') }],
      [tables.lookupAttr('setpoint'), { kind: 'number', value: 70 }],
    ]);
    kernel.setAttrs(0, attrs);
    ref.setAttrs(0, attrs);
    const temp = tables.lookupMetric('temperature');
    const feed = (from: number, to: number, value: number) => {
      const events: BatchEvent[] = [];
      for (let t = from; t < to; t += 500) events.push({ slot: 0, metric: temp, ts: T0 + t, value });
      const k = kernel.apply(events, T0 + to);
      const r = events.flatMap((e) => ref.apply(e.slot, e.metric, e.ts, e.value, T0 + to));
      expect(diffTransitions(k, r)).toBeNull();
      return k;
    };
    const fired = feed(0, 4000, 99).filter((t) => t.state === STATE_FIRED).map((t) => kernel.program.rules[t.rule].id);
    expect(fired).toEqual(expect.arrayContaining(['hot', 'spike']));
    expect(kernel.k.ruleState(0, idx(v1, 'spike'))).toBe(RS_FIRING);

    kernel.install(v2);
    ref.switchProgram(v2);
    expect(kernel.k.ruleState(0, idx(v2, 'hot'))).toBe(RS_FIRING);
    expect(kernel.k.ruleState(0, idx(v2, 'spike'))).toBe(RS_IDLE);
    expect(kernel.k.ruleState(0, idx(v2, 'cold'))).toBe(RS_IDLE);
    // The kept avg window still holds the hot readings: `hot` does not fire again; the reset `spike` does.
    const after = feed(4000, 5000, 99);
    expect(after.filter((t) => t.state === STATE_FIRED).map((t) => [kernel.program.rules[t.rule].id, t.version])).toEqual([['spike', 2]]);
    expect(kernel.k.ruleState(0, idx(v2, 'hot'))).toBe(RS_FIRING);
  });
});
