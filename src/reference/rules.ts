// Reference rule engine: the plain TypeScript oracle of SPEC §4.3 that the kernel's rule VM
// is property-tested against. Clarity over speed; semantics decisions are the ones in
// docs/internals.md "Rule semantics decisions" and docs/rule-vm.md, nothing else.
import type { ProgramSpec, RuleSpec } from '../kernel/program-spec.js';
import { RS_FIRING, RS_IDLE, RS_NOT_MATCHING, RS_PENDING, STATE_CLEARED, STATE_FIRED } from '../../assembly/layout.js';
import { type AttrValue, type ExprContext, evaluate, matchesAll, numericAttr, truthy } from './rules-expr.js';

export type { AttrValue } from './rules-expr.js';

export interface Transition {
  rule: number;
  slot: number;
  state: typeof STATE_FIRED | typeof STATE_CLEARED;
  /** The event's ts; on a tick, the rule time max(τ, now). */
  ts: number;
  /** In `rule.reads` order. */
  values: number[];
  /** ProgramSpec.version the transition was evaluated under. */
  version: number;
}

/** What the engine needs of a feature model (ReferenceFeatures in src/reference/features.ts). */
export interface FeatureStore {
  apply(slot: number, metric: number, ts: number, value: number, nowMs: number): void;
  value(slot: number, feature: number, nowMs: number): number;
  remove(slot: number): void;
  /** Switches features the way the kernel does (state kept by identity, new ones empty). */
  switchProgram(spec: ProgramSpec): void;
}
export type FeatureStoreFactory = (spec: ProgramSpec) => FeatureStore;

interface RuleState {
  state: typeof RS_IDLE | typeof RS_PENDING | typeof RS_FIRING;
  since: number;
  /** NaN until the first fire. */
  lastFire: number;
}

export class ReferenceEngine {
  private spec: ProgramSpec;
  private readonly features: FeatureStore;
  private readonly attrs = new Map<number, Map<number, AttrValue>>();
  /** Per slot, per rule of the active program. */
  private readonly states = new Map<number, RuleState[]>();
  private readonly clocks = new Map<number, number>();

  /** `newFeatures` builds the feature model (ReferenceFeatures; see createReferenceEngine in ./index.ts). */
  constructor(spec: ProgramSpec, newFeatures: FeatureStoreFactory) {
    this.spec = spec;
    this.features = newFeatures(spec);
  }

  get version(): number { return this.spec.version; }
  get program(): ProgramSpec { return this.spec; }

  /** Replaces the device's attributes; they take effect for later evaluations. */
  setAttrs(slot: number, attrs: ReadonlyMap<number, AttrValue>): void {
    this.attrs.set(slot, new Map(attrs));
    if (!this.states.has(slot)) this.states.set(slot, this.freshStates());
  }

  removeDevice(slot: number): void {
    this.attrs.delete(slot);
    this.states.delete(slot);
    this.clocks.delete(slot);
    this.features.remove(slot);
  }

  /** Applies one event (metric NO_METRIC: clock only) and evaluates every rule in program order. */
  apply(slot: number, metric: number, ts: number, value: number, nowMs: number): Transition[] {
    this.features.apply(slot, metric, ts, value, nowMs);
    const prev = this.clocks.get(slot);
    const tau = prev === undefined || ts > prev ? ts : prev;
    this.clocks.set(slot, tau);
    const out: Transition[] = [];
    this.evaluateDevice(slot, ts, tau, nowMs, false, out);
    return out;
  }

  /** Timer tick: `usesAge` rules of every device that has a clock, at rule time max(τ, now). */
  tick(nowMs: number): Transition[] {
    const out: Transition[] = [];
    if (!this.spec.rules.some((r) => r.usesAge)) return out;
    // only devices with a clock: one that never sent an event has no rule state to advance
    const slots = [...this.clocks.keys()].filter((s) => this.states.has(s)).sort((a, b) => a - b);
    for (const slot of slots) {
      const tau = this.clocks.get(slot)!;
      const t = tau > nowMs ? tau : nowMs;
      this.evaluateDevice(slot, t, t, nowMs, true, out);
    }
    return out;
  }

  /** Feature value of the active program for the device (at its clock; `age` at `nowMs`). */
  featureValue(slot: number, feature: number, nowMs: number): number {
    return this.features.value(slot, feature, nowMs);
  }

  clock(slot: number): number {
    return this.clocks.get(slot) ?? NaN;
  }

  ruleState(slot: number, rule: number): number {
    const r = this.spec.rules[rule];
    // like the kernel: a device it has never seen (no event, no attributes) matches nothing
    if (!r || !this.states.has(slot) || !matchesAll(r.match, this.attrs.get(slot))) return RS_NOT_MATCHING;
    return this.states.get(slot)?.[rule]?.state ?? RS_IDLE;
  }

  /**
   * Switches to `next` at an event boundary: rules with an equal key keep their state,
   * features with an equal canonical text keep theirs; everything else starts empty.
   */
  switchProgram(next: ProgramSpec): void {
    this.features.switchProgram(next);
    const prevByKey = new Map<string, number>();
    this.spec.rules.forEach((r, i) => { if (!prevByKey.has(r.key)) prevByKey.set(r.key, i); });
    for (const [slot, old] of this.states) {
      this.states.set(slot, next.rules.map((r) => {
        const p = prevByKey.get(r.key);
        return p === undefined ? newRuleState() : { ...old[p] };
      }));
    }
    this.spec = next;
  }

  private freshStates(): RuleState[] {
    return this.spec.rules.map(newRuleState);
  }

  private evaluateDevice(slot: number, ts: number, t: number, nowMs: number, onTick: boolean, out: Transition[]): void {
    let states = this.states.get(slot);
    if (!states) {
      states = this.freshStates();
      this.states.set(slot, states);
    }
    const attrs = this.attrs.get(slot);
    const ctx: ExprContext = {
      feature: (i) => this.featureValue(slot, i, nowMs),
      attr: (a) => numericAttr(attrs, a),
    };
    this.spec.rules.forEach((rule, i) => {
      if (onTick && !rule.usesAge) return;
      const st = states[i];
      if (!matchesAll(rule.match, attrs)) {
        st.state = RS_IDLE;
        return;
      }
      const when = truthy(evaluate(rule.when, ctx));
      if (st.state === RS_FIRING) {
        const clear = rule.clear ? truthy(evaluate(rule.clear, ctx)) : !when;
        if (clear) {
          st.state = RS_IDLE;
          out.push(this.transition(rule, i, slot, STATE_CLEARED, ts, ctx));
        }
        return;
      }
      if (!when) {
        st.state = RS_IDLE;
        return;
      }
      if (st.state === RS_IDLE) st.since = t;
      // a `for` or `cooldown` of 0 is no condition (tick and event rule times may interleave)
      const held = rule.forMs === 0 || t >= st.since + rule.forMs;
      const cooled = rule.cooldownMs === 0 || Number.isNaN(st.lastFire) || t >= st.lastFire + rule.cooldownMs;
      if (held && cooled) {
        st.state = RS_FIRING;
        st.lastFire = t;
        out.push(this.transition(rule, i, slot, STATE_FIRED, ts, ctx));
      } else {
        st.state = RS_PENDING;
      }
    });
  }

  private transition(rule: RuleSpec, index: number, slot: number, state: Transition['state'], ts: number, ctx: ExprContext): Transition {
    const values = rule.reads.map((r) => (r.kind === 'feature' ? ctx.feature(r.index) : ctx.attr(r.attr)));
    return { rule: index, slot, state, ts, values, version: this.spec.version };
  }
}

function newRuleState(): RuleState {
  return { state: RS_IDLE, since: 0, lastFire: NaN };
}
