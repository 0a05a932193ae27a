// Rule VM inside the real WASM kernel, scenario by scenario with the expected records
// spelled out (SPEC §4.3, §4.4 and the decisions in docs/internals.md).
import { describe, expect, it } from 'vitest';
import { NO_METRIC, RS_FIRING, RS_IDLE, RS_NOT_MATCHING, RS_PENDING, STATE_CLEARED, STATE_FIRED } from '../assembly/layout.js';
import { FeatureFn, type Expr, type FeatureSpec, type ProgramSpec, type RuleSpec } from '../src/kernel/program-spec.js';
import type { AttrValue } from '../src/reference/rules.js';
import { createReferenceEngine } from '../src/reference/index.js';
import { KernelDriver, type BatchEvent } from './rules-kernel-driver.js';

const T0 = 1_763_800_000_000;
const TEMP = 0;
const ERRORS = 1;
const LAST: FeatureSpec = { fn: FeatureFn.Last, metric: TEMP, windowMs: 0, bucketMs: 0, halfLifeMs: 0, canonical: 'last(temperature)' };
const AVG: FeatureSpec = { fn: FeatureFn.Avg, metric: TEMP, windowMs: 10_000, bucketMs: 500, halfLifeMs: 0, canonical: 'avg(temperature, 10s)' };
const AGE: FeatureSpec = { fn: FeatureFn.Age, metric: ERRORS, windowMs: 0, bucketMs: 0, halfLifeMs: 0, canonical: 'age(errors)' };

const num = (value: number): Expr => ({ op: 'num', value });
const feat = (index: number): Expr => ({ op: 'feature', index });
const cmp = (op: '>' | '<', left: Expr, right: Expr): Expr => ({ op, left, right });

function rule(id: string, when: Expr, extra: Partial<RuleSpec> = {}): RuleSpec {
  const r: RuleSpec = {
    id, key: '', when, clear: null, forMs: 0, cooldownMs: 0, usesAge: false, match: [], reads: [{ kind: 'feature', index: 0 }], actions: [], ...extra,
  };
  r.key = JSON.stringify([r.when, r.clear, r.forMs, r.cooldownMs, r.match]);
  return r;
}

function program(version: number, features: FeatureSpec[], rules: RuleSpec[]): ProgramSpec {
  return { version, metrics: ['temperature', 'errors'], attrs: ['type', 'setpoint'], strings: ['thermostat', 'pump'], features, rules };
}

const ev = (slot: number, dt: number, value: number, metric = TEMP): BatchEvent => ({ slot, metric, ts: T0 + dt, value });
const brief = (ts: Array<{ rule: number; slot: number; state: number; ts: number; values: number[]; version: number }>) =>
  ts.map((t) => [t.rule, t.slot, t.state === STATE_FIRED ? 'fired' : 'cleared', t.ts - T0, ...t.values, `v${t.version}`]);

describe('rule VM scenarios in the kernel', () => {
  const spikeProgram = () => program(1, [LAST, AVG], [
    rule('hot', cmp('>', feat(0), num(50))),
    rule('avg-hot', cmp('>', feat(1), num(40)), { clear: cmp('<', feat(1), num(30)), reads: [{ kind: 'feature', index: 1 }] }),
  ]);
  const spike = [ev(0, 0, 20), ev(0, 100, 90), ev(0, 200, 20), ev(0, 300, 20), ev(0, 400, -10)];

  it('a spike inside one batch fires and clears exactly as one event per batch', () => {
    const one = new KernelDriver(spikeProgram());
    const perEvent = spike.flatMap((e) => one.apply([e], T0 + 1000));
    const batched = new KernelDriver(spikeProgram()).apply(spike, T0 + 1000);
    expect(brief(batched)).toEqual(brief(perEvent));
    expect(brief(batched)).toEqual([
      [0, 0, 'fired', 100, 90, 'v1'],
      [1, 0, 'fired', 100, 55, 'v1'],
      [0, 0, 'cleared', 200, 20, 'v1'],
      [1, 0, 'cleared', 400, 28, 'v1'], // hysteresis: 43.3 and 37.5 are not below 30
    ]);
  });

  it('for and cooldown: pending until held long enough, no new fire within the cooldown', () => {
    const k = new KernelDriver(program(1, [LAST], [rule('r', cmp('>', feat(0), num(5)), { forMs: 1000, cooldownMs: 5000 })]));
    const step = (dt: number, v: number) => brief(k.apply([ev(0, dt, v)], T0 + dt));
    expect(step(0, 6)).toEqual([]);
    expect(k.k.ruleState(0, 0)).toBe(RS_PENDING);
    expect(step(500, 7)).toEqual([]);
    expect(step(1000, 8)).toEqual([[0, 0, 'fired', 1000, 8, 'v1']]);
    expect(k.k.ruleState(0, 0)).toBe(RS_FIRING);
    expect(step(1200, 9)).toEqual([]); // firing emits nothing more
    expect(step(1500, 1)).toEqual([[0, 0, 'cleared', 1500, 1, 'v1']]);
    expect(k.k.ruleState(0, 0)).toBe(RS_IDLE);
    expect(step(2000, 9)).toEqual([]);
    expect(step(3000, 9)).toEqual([]); // for has passed, the cooldown (until 6000) has not
    expect(k.k.ruleState(0, 0)).toBe(RS_PENDING);
    expect(step(2500, 9)).toEqual([]); // out of order: τ stays 3000
    expect(step(6000, 9)).toEqual([[0, 0, 'fired', 6000, 9, 'v1']]);
    expect(step(6100, 3)).toEqual([[0, 0, 'cleared', 6100, 3, 'v1']]);
    expect(step(6200, 9)).toEqual([]); // pending again: a false when dropped it
    expect(step(6300, 2)).toEqual([]);
    expect(k.k.ruleState(0, 0)).toBe(RS_IDLE);
  });

  it('match selectors and device.NAME come from attributes; changes apply to later events', () => {
    const k = new KernelDriver(program(1, [LAST], [rule('r', cmp('>', feat(0), { op: '+', left: { op: 'attr', attr: 1 }, right: num(2) }), {
      match: [{ attr: 0, values: [{ kind: 'string', value: 0 }] }],
      reads: [{ kind: 'feature', index: 0 }, { kind: 'attr', attr: 1 }],
    })]));
    const attrs = (type: number, setpoint: number) => new Map<number, AttrValue>([[0, { kind: 'string', value: type }], [1, { kind: 'number', value: setpoint }]]);
    k.setAttrs(0, attrs(0, 5));
    k.setAttrs(1, attrs(1, 5));
    expect(brief(k.apply([ev(0, 0, 8), ev(1, 0, 8)], T0))).toEqual([[0, 0, 'fired', 0, 8, 5, 'v1']]);
    expect(k.k.ruleState(1, 0)).toBe(RS_NOT_MATCHING);
    k.setAttrs(0, attrs(1, 5)); // no longer a thermostat: leaves silently
    expect(k.k.ruleState(0, 0)).toBe(RS_NOT_MATCHING);
    expect(brief(k.apply([ev(0, 100, 9)], T0))).toEqual([]);
    k.setAttrs(0, attrs(0, 8));
    expect(k.k.ruleState(0, 0)).toBe(RS_IDLE);
    expect(brief(k.apply([ev(0, 200, 9)], T0))).toEqual([]); // 9 > 8 + 2 is false
    expect(brief(k.apply([ev(0, 300, 11)], T0))).toEqual([[0, 0, 'fired', 300, 11, 8, 'v1']]);
    k.setAttrs(0, new Map([[0, { kind: 'string', value: 0 }]])); // setpoint gone: NaN, the comparison is false
    expect(brief(k.apply([ev(0, 400, 11)], T0))).toEqual([[0, 0, 'cleared', 400, 11, NaN, 'v1']]);
  });

  it('ticks evaluate age rules at max(τ, now); events clear them', () => {
    const k = new KernelDriver(program(1, [AGE, LAST], [
      rule('silent', cmp('>', feat(0), num(3)), { usesAge: true }),
      rule('hot', cmp('>', feat(1), num(5)), { reads: [{ kind: 'feature', index: 1 }] }),
    ]));
    expect(brief(k.apply([ev(0, 0, 1, ERRORS), ev(0, 0, 9)], T0))).toEqual([[1, 0, 'fired', 0, 9, 'v1']]);
    expect(brief(k.tick(T0 + 2000))).toEqual([]);
    expect(brief(k.tick(T0 + 4000))).toEqual([[0, 0, 'fired', 4000, 4, 'v1']]);
    expect(brief(k.tick(T0 + 5000))).toEqual([]);
    expect(brief(k.apply([ev(0, 4500, 1, ERRORS)], T0 + 5500))).toEqual([[0, 0, 'cleared', 4500, 0, 'v1']]);
    // a device known only by its attributes has sent nothing: no clock, so ticks skip it
    // (its age is +Inf only because nothing ever arrived)
    k.setAttrs(3, new Map([[0, { kind: 'string', value: 1 }]]));
    expect(brief(k.tick(T0 + 6000))).toEqual([]);
    expect(k.k.ruleState(3, 0)).toBe(RS_IDLE);
    // a device clock ahead of the wall clock is the rule time
    expect(brief(k.apply([ev(4, 60_000, 1, ERRORS)], T0 + 6000))).toEqual([]);
    expect(brief(k.tick(T0 + 10_000))).toEqual([[0, 0, 'fired', 10_000, 4.5, 'v1'], [0, 4, 'fired', 60_000, 4, 'v1']]);
    // after one event, silence makes it fire on a tick
    expect(brief(k.apply([ev(3, 7000, 1, ERRORS)], T0 + 7000))).toEqual([]);
    expect(brief(k.tick(T0 + 12_000))).toEqual([[0, 3, 'fired', 12_000, 5, 'v1']]);
  });

  it('the reference engine skips devices without a clock on ticks too', () => {
    const ref = createReferenceEngine(program(1, [AGE], [rule('silent', cmp('>', feat(0), num(3)), { usesAge: true })]));
    ref.setAttrs(3, new Map([[0, { kind: 'string', value: 1 }]]));
    expect(ref.tick(T0 + 6000)).toEqual([]);
    expect(ref.apply(3, ERRORS, T0 + 7000, 1, T0 + 7000)).toEqual([]);
    expect(ref.tick(T0 + 12_000).map((t) => [t.rule, t.slot, t.state, t.ts - T0, ...t.values])).toEqual([[0, 3, STATE_FIRED, 12_000, 5]]);
  });

  it('program switch keeps unchanged rules, resets changed and new ones, tags records with the version', () => {
    const keep = rule('keep', cmp('>', feat(0), num(5)));
    const change = rule('change', cmp('>', feat(0), num(8)));
    const removed = rule('removed', cmp('>', feat(0), num(1)));
    const k = new KernelDriver(program(1, [LAST], [keep, change, removed]));
    expect(brief(k.apply([ev(0, 0, 9), ev(1, 0, 6)], T0))).toEqual([
      [0, 0, 'fired', 0, 9, 'v1'], [1, 0, 'fired', 0, 9, 'v1'], [2, 0, 'fired', 0, 9, 'v1'],
      [0, 1, 'fired', 0, 6, 'v1'], [2, 1, 'fired', 0, 6, 'v1'],
    ]);
    const reads = [{ kind: 'feature' as const, index: 1 }];
    const changed = rule('change', cmp('>', feat(1), num(3)), { reads });
    const added = rule('new', cmp('>', feat(1), num(0)), { reads });
    k.install(program(2, [AVG, LAST], [added, { ...keep, when: cmp('>', feat(1), num(5)), reads }, changed]));
    expect([0, 1, 2].map((r) => k.k.ruleState(0, r))).toEqual([RS_IDLE, RS_FIRING, RS_IDLE]);
    expect([0, 1, 2].map((r) => k.k.ruleState(1, r))).toEqual([RS_IDLE, RS_FIRING, RS_IDLE]);
    expect(k.k.featureValue(0, 1, T0)).toBe(9); // last(temperature) kept its state
    expect(brief(k.apply([ev(0, 100, 9)], T0))).toEqual([[0, 0, 'fired', 100, 9, 'v2'], [2, 0, 'fired', 100, 9, 'v2']]);
    expect(brief(k.apply([ev(0, 200, -1)], T0))).toEqual([[0, 0, 'cleared', 200, -1, 'v2'], [1, 0, 'cleared', 200, -1, 'v2'], [2, 0, 'cleared', 200, -1, 'v2']]);
    expect(brief(k.apply([ev(1, 300, 4)], T0))).toEqual([[0, 1, 'fired', 300, 4, 'v2'], [1, 1, 'cleared', 300, 4, 'v2'], [2, 1, 'fired', 300, 4, 'v2']]);
  });

  it('a full outbox stops the batch early and loses no record', () => {
    const k = new KernelDriver(program(1, [LAST], [rule('r', cmp('>', feat(0), num(5)))]), { outboxBytes: 4096, batchEvents: 512 });
    const events = Array.from({ length: 400 }, (_, i) => ev(i % 200, i, i < 200 ? 9 : 1));
    const out = brief(k.apply(events, T0 + 1000));
    expect(k.earlyStops).toBeGreaterThan(0);
    expect(out).toEqual(events.map((e, i) => [0, e.slot, i < 200 ? 'fired' : 'cleared', i, e.value, 'v1']));
    expect(k.transitionsCounter()).toBe(400);
  });

  it('events of a metric no rule reads still trigger evaluation', () => {
    const k = new KernelDriver(program(1, [AGE], [rule('silent', cmp('>', feat(0), num(3)), { usesAge: true })]));
    expect(brief(k.apply([{ slot: 0, metric: NO_METRIC, ts: T0, value: 1 }], T0))).toEqual([[0, 0, 'fired', 0, Infinity, 'v1']]);
  });
});
