// fast-check generators for the rule VM tests: small random rule sets built directly as
// ProgramSpec over a fixed pool of features, and random device streams (several devices
// and metrics, out-of-order and duplicate ts, attribute changes, ticks, program switches).
import fc from 'fast-check';
import { FeatureFn, type Expr, type FeatureSpec, type MatchClause, type ProgramSpec, type Read, type RuleSpec } from '../src/kernel/program-spec.js';
import { NO_METRIC } from '../assembly/layout.js';
import type { AttrValue } from '../src/reference/rules.js';

export const METRICS = ['temperature', 'errors'];
export const ATTRS = ['type', 'setpoint'];
export const STRINGS = ['thermostat', 'pump'];
export const DEVICES = 3;
export const BASE_TS = 1_763_800_000_000;

const f = (fn: FeatureFn, metric: number, windowMs: number, bucketMs: number, halfLifeMs: number, canonical: string): FeatureSpec =>
  ({ fn, metric, windowMs, bucketMs, halfLifeMs, canonical });

/**
 * The pool rules draw from. `thresholds` are values the feature moves around, chosen so
 * that a rounding difference within SPEC tolerances cannot flip a comparison; `exact`
 * features (integers over integer input) may also meet `==` and `!=`.
 */
export const POOL: Array<{ spec: FeatureSpec; thresholds: number[]; exact: boolean }> = [
  { spec: f(FeatureFn.Last, 0, 0, 0, 0, 'last(temperature)'), thresholds: [2, 5, 8], exact: true },
  { spec: f(FeatureFn.Avg, 0, 10_000, 500, 0, 'avg(temperature, 10s)'), thresholds: [3.31, 5.07, 6.93], exact: false },
  { spec: f(FeatureFn.Max, 0, 10_000, 500, 0, 'max(temperature, 10s)'), thresholds: [6, 9], exact: true },
  { spec: f(FeatureFn.Count, 1, 5_000, 250, 0, 'count(errors, 5s)'), thresholds: [1, 3], exact: true },
  { spec: f(FeatureFn.Rate, 1, 5_000, 250, 0, 'rate(errors, 5s)'), thresholds: [0.23, 0.61], exact: false },
  { spec: f(FeatureFn.Deriv, 0, 10_000, 500, 0, 'deriv(temperature, 10s)'), thresholds: [-0.37, 0.0123, 0.41], exact: false },
  { spec: f(FeatureFn.Delta, 0, 10_000, 500, 0, 'delta(temperature, 10s)'), thresholds: [-3, 0, 3], exact: true },
  { spec: f(FeatureFn.Ewma, 0, 0, 0, 2_000, 'ewma(temperature, 2s)'), thresholds: [4.17, 6.09], exact: false },
  { spec: f(FeatureFn.Min, 1, 5_000, 250, 0, 'min(errors, 5s)'), thresholds: [0.5, 1], exact: true },
  { spec: f(FeatureFn.Age, 1, 0, 0, 0, 'age(errors)'), thresholds: [1.0031, 2.9973], exact: false },
  { spec: f(FeatureFn.Sum, 0, 4_000, 1_000, 0, 'sum(temperature, 4s, 1s)'), thresholds: [9, 20], exact: true },
  { spec: f(FeatureFn.RateDeriv, 1, 5_000, 1_000, 0, 'rate_deriv(errors, 5s, 1s)'), thresholds: [-0.113, 0.0917], exact: false },
];
export const AGE_POOL_INDEX = 9;

/** An expression over pool features (op 'feature' indexes POOL until placed into a spec). */
type Draft = Expr;

type Numeric = { e: Draft; around: number[]; exact: boolean };
const numeric = (e: Draft, around: number[], exact: boolean): fc.Arbitrary<Numeric> => fc.constant({ e, around, exact });

const arbNumeric = (): fc.Arbitrary<Numeric> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: POOL.length - 1 }).map((i) => ({ e: { op: 'feature', index: i } as Draft, around: POOL[i].thresholds, exact: POOL[i].exact })) },
    { weight: 1, arbitrary: numeric({ op: 'attr', attr: 1 }, [3, 6], true) },
    { weight: 1, arbitrary: numeric({ op: '-', left: { op: 'feature', index: 0 }, right: { op: 'attr', attr: 1 } }, [-2, 0, 2], true) },
    { weight: 1, arbitrary: numeric({ op: 'abs', arg: { op: '-', left: { op: 'feature', index: 1 }, right: { op: 'num', value: 5 } } }, [1.13, 2.27], false) },
    { weight: 1, arbitrary: numeric({ op: '*', left: { op: 'feature', index: 3 }, right: { op: 'feature', index: 0 } }, [6, 17], true) },
    { weight: 1, arbitrary: numeric({ op: '/', left: { op: 'feature', index: 6 }, right: { op: 'feature', index: 3 } }, [-1.03, 0.51], false) },
  );

/**
 * The right side of `feature CMP …` around threshold c: the number, or one of the shapes the
 * encoder fuses with the setpoint attribute (attr 1, usually 3/5/7): `setpoint + (c − 5)`,
 * `(c − 5) + setpoint`, `setpoint − (5 − c)`, `setpoint`.
 */
function rightSide(c: number, form: number, neg: boolean, op: string): Draft {
  const sp: Draft = { op: 'attr', attr: 1 };
  switch (form) {
    case 1: return { op: '+', left: sp, right: { op: 'num', value: c - 5 } };
    case 2: return { op: '+', left: { op: 'num', value: c - 5 }, right: sp };
    case 3: return { op: '-', left: sp, right: { op: 'num', value: 5 - c } };
    case 4: return sp;
    default: return neg && op !== '==' ? { op: 'neg', arg: { op: 'num', value: -c } } : { op: 'num', value: c };
  }
}

const arbComparison = (): fc.Arbitrary<Draft> =>
  fc.tuple(arbNumeric(), fc.constantFrom('<', '<=', '>', '>=', '==', '!=' as const), fc.nat(), fc.boolean(), fc.constantFrom(0, 0, 0, 1, 2, 3, 4)).map(([n, op0, k, neg, form]) => {
    const op = n.exact ? op0 : op0 === '==' ? '>=' : op0 === '!=' ? '<' : op0;
    const c = n.around[k % n.around.length];
    // the attribute forms only on a plain feature (what the kernel fuses into a row atom)
    return { op, left: n.e, right: rightSide(c, n.e.op === 'feature' ? form : 0, neg, op) } as Draft;
  });

const arbCondition: fc.Arbitrary<Draft> = fc.letrec<{ cond: Draft }>((tie) => ({
  cond: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 5, arbitrary: arbComparison() },
    { weight: 1, arbitrary: fc.tuple(tie('cond'), tie('cond')).map(([l, r]) => ({ op: 'and', left: l, right: r }) as Draft) },
    { weight: 1, arbitrary: fc.tuple(tie('cond'), tie('cond')).map(([l, r]) => ({ op: 'or', left: l, right: r }) as Draft) },
    { weight: 1, arbitrary: tie('cond').map((a) => ({ op: 'not', arg: a }) as Draft) },
  ),
})).cond;

export interface RuleDraft {
  when: Draft;
  clear: Draft | null;
  forMs: number;
  cooldownMs: number;
  match: MatchClause[];
}

export const arbRuleDraft: fc.Arbitrary<RuleDraft> = fc.record({
  when: arbCondition,
  clear: fc.option(arbCondition, { freq: 3 }),
  forMs: fc.constantFrom(0, 0, 300, 1_000, 2_500),
  cooldownMs: fc.constantFrom(0, 0, 1_000, 4_000),
  match: fc.constantFrom<MatchClause[]>(
    [], [],
    [{ attr: 0, values: [{ kind: 'string', value: 0 }] }],
    [{ attr: 0, values: [{ kind: 'string', value: 0 }, { kind: 'string', value: 1 }] }],
    [{ attr: 1, values: [{ kind: 'number', value: 5 }] }],
  ),
});

function walk(e: Draft, visit: (e: Draft) => void): void {
  visit(e);
  if ('arg' in e) walk(e.arg, visit);
  if ('left' in e) { walk(e.left, visit); walk(e.right, visit); }
}

function mapFeatures(e: Draft, to: (pool: number) => number): Expr {
  switch (e.op) {
    case 'feature': return { op: 'feature', index: to(e.index) };
    case 'num': case 'attr': return e;
    case 'abs': case 'neg': case 'not': return { op: e.op, arg: mapFeatures(e.arg, to) };
    default: return { op: e.op, left: mapFeatures(e.left, to), right: mapFeatures(e.right, to) };
  }
}

/** A stable text of a draft expression with canonical feature names (the rule key). */
function keyText(e: Draft): string {
  return JSON.stringify(mapFeatures(e, (i) => i), (k, v) => (k === 'index' ? POOL[v as number].spec.canonical : v));
}

/** Builds a ProgramSpec; features are the used pool features in first-appearance order. */
export function buildSpec(drafts: RuleDraft[], version: number): ProgramSpec {
  const used: number[] = [];
  const place = (pool: number): number => {
    let i = used.indexOf(pool);
    if (i < 0) { used.push(pool); i = used.length - 1; }
    return i;
  };
  const rules: RuleSpec[] = drafts.map((d, n) => {
    const reads: Read[] = [];
    let usesAge = false;
    for (const e of d.clear ? [d.when, d.clear] : [d.when]) {
      walk(e, (x) => {
        if (x.op === 'feature') {
          if (x.index === AGE_POOL_INDEX) usesAge = true;
          const idx = place(x.index);
          if (!reads.some((r) => r.kind === 'feature' && r.index === idx)) reads.push({ kind: 'feature', index: idx });
        } else if (x.op === 'attr' && !reads.some((r) => r.kind === 'attr' && r.attr === x.attr)) reads.push({ kind: 'attr', attr: x.attr });
      });
    }
    return {
      id: `r${n}`,
      key: JSON.stringify([keyText(d.when), d.clear && keyText(d.clear), d.forMs, d.cooldownMs, d.match]),
      when: mapFeatures(d.when, place),
      clear: d.clear && mapFeatures(d.clear, place),
      forMs: d.forMs,
      cooldownMs: d.cooldownMs,
      usesAge,
      match: d.match,
      reads,
      actions: [],
    };
  });
  return { version, metrics: METRICS, attrs: ATTRS, strings: STRINGS, features: used.map((i) => POOL[i].spec), rules };
}

export type Step =
  | { kind: 'event'; slot: number; metric: number; ts: number; value: number; now: number }
  | { kind: 'attrs'; slot: number; attrs: Map<number, AttrValue> }
  | { kind: 'tick'; now: number }
  | { kind: 'remove'; slot: number }
  /** Keep the old rules picked by `keep` (by index modulo), then add `add`. */
  | { kind: 'switch'; keep: number[]; add: RuleDraft[] };

type RawStep =
  | { kind: 'event'; slot: number; metric: number; dt: number; back: number; value: number }
  | { kind: 'attrs'; slot: number; type: number; setpoint: number }
  | { kind: 'tick'; dt: number }
  | { kind: 'remove'; slot: number }
  | { kind: 'switch'; keep: number[]; add: RuleDraft[] };

const arbRaw = (withSwitch: boolean): fc.Arbitrary<RawStep> => fc.oneof(
  { weight: 30, arbitrary: fc.record({
    kind: fc.constant('event' as const),
    slot: fc.integer({ min: 0, max: DEVICES - 1 }),
    metric: fc.constantFrom(0, 0, 1, 1, NO_METRIC),
    dt: fc.constantFrom(0, 0, 50, 250, 400, 1_000, 3_000, 12_000),
    back: fc.constantFrom(0, 0, 0, 0, 300, 2_000, 20_000),
    value: fc.integer({ min: 0, max: 10 }),
  }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('attrs' as const), slot: fc.integer({ min: 0, max: DEVICES - 1 }), type: fc.integer({ min: 0, max: 2 }), setpoint: fc.constantFrom(-1, 3, 5, 7, 99) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const), dt: fc.constantFrom(0, 500, 1_000, 4_000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), slot: fc.integer({ min: 0, max: DEVICES - 1 }) }) },
  { weight: withSwitch ? 1 : 0, arbitrary: fc.record({ kind: fc.constant('switch' as const), keep: fc.array(fc.nat(), { maxLength: 4 }), add: fc.array(arbRuleDraft, { maxLength: 2 }) }) },
);

/** Absolute times: the wall clock runs just ahead of the newest event; events may come late or out of order. */
export function arbSteps(opts: { withSwitch?: boolean; maxLength?: number } = {}): fc.Arbitrary<Step[]> {
  return fc.array(arbRaw(opts.withSwitch ?? false), { minLength: 1, maxLength: opts.maxLength ?? 60, size: 'max' }).map((raw) => {
    let clock = BASE_TS;
    const out: Step[] = [];
    for (const r of raw) {
      if (r.kind === 'event') {
        clock += r.dt;
        const value = r.metric === 1 ? 1 : r.value;
        out.push({ kind: 'event', slot: r.slot, metric: r.metric, ts: clock - r.back, value, now: clock + 5 });
      } else if (r.kind === 'tick') {
        clock += r.dt;
        out.push({ kind: 'tick', now: clock + 5 });
      } else if (r.kind === 'attrs') {
        const attrs = new Map<number, AttrValue>();
        if (r.type > 0) attrs.set(0, { kind: 'string', value: r.type - 1 });
        if (r.setpoint === 99) attrs.set(1, { kind: 'string', value: 0 });
        else if (r.setpoint >= 0) attrs.set(1, { kind: 'number', value: r.setpoint });
        out.push({ kind: 'attrs', slot: r.slot, attrs });
      } else out.push(r);
    }
    return out;
  });
}

export const arbDrafts = (max = 4): fc.Arbitrary<RuleDraft[]> => fc.array(arbRuleDraft, { minLength: 1, maxLength: max });

/** The drafts after a switch step. */
export function switchDrafts(old: RuleDraft[], s: { keep: number[]; add: RuleDraft[] }): RuleDraft[] {
  const kept = old.length === 0 ? [] : [...new Set(s.keep.map((k) => k % old.length))].map((i) => old[i]);
  const next = [...kept, ...s.add];
  return next.length > 0 ? next : old.slice(0, 1);
}
