// The peer's rules: what a Node team would write without Damper. Each compiled rule's
// `when` and `clear` become json-rules-engine rules (and/or/not → all/any/not; each side
// of a comparison a dynamic fact computed from the plain reference features), and a
// hand-written state machine applies `for`, `clear` and `cooldown`.
import { Engine, type NestedCondition, type TopLevelCondition } from 'json-rules-engine';
import type { Expr, ProgramSpec } from '../../src/kernel/program-spec.js';
import { evaluate, matchesAll, numericAttr, type AttrValue, type ExprContext } from '../../src/reference/rules-expr.js';

const OPERATORS: Record<string, string> = {
  '<': 'lessThan',
  '<=': 'lessThanInclusive',
  '>': 'greaterThan',
  '>=': 'greaterThanInclusive',
  '==': 'equal',
  '!=': 'notEqual',
};

export interface PeerDevice {
  slot: number;
  attrs: Map<number, AttrValue>;
  ctx: ExprContext;
  /** Per rule: 0 idle, 1 pending, 2 firing. */
  state: Uint8Array;
  since: Float64Array;
  lastFire: Float64Array;
}

export class PeerRules {
  private readonly engine = new Engine([], { allowUndefinedFacts: true });
  private readonly exprs: Expr[] = [];
  transitions = 0;

  constructor(private readonly spec: ProgramSpec) {
    this.engine.addFact('expr', async (params: Record<string, unknown>, almanac) => {
      const device = (await almanac.factValue('device')) as PeerDevice;
      return evaluate(this.exprs[params.id as number], device.ctx);
    });
    spec.rules.forEach((rule, i) => {
      this.engine.addRule({ name: `${i}:when`, conditions: this.top(rule.when), event: { type: 'when', params: { rule: i } } });
      if (rule.clear) {
        this.engine.addRule({ name: `${i}:clear`, conditions: this.top(rule.clear), event: { type: 'clear', params: { rule: i } } });
      }
    });
  }

  newDevice(slot: number, ctx: ExprContext, attrs: Map<number, AttrValue>): PeerDevice {
    const n = this.spec.rules.length;
    return { slot, attrs, ctx, state: new Uint8Array(n), since: new Float64Array(n), lastFire: new Float64Array(n).fill(NaN) };
  }

  /** Runs every rule for one device at its clock `tau`; resolves to the transitions emitted. */
  async evaluate(device: PeerDevice, tau: number): Promise<number> {
    const { events } = await this.engine.run({ device });
    const whenTrue = new Uint8Array(this.spec.rules.length);
    const clearTrue = new Uint8Array(this.spec.rules.length);
    for (const e of events) {
      const i = (e.params as { rule: number }).rule;
      if (e.type === 'when') whenTrue[i] = 1;
      else clearTrue[i] = 1;
    }
    let emitted = 0;
    this.spec.rules.forEach((rule, i) => {
      if (!matchesAll(rule.match, device.attrs)) {
        device.state[i] = 0;
        return;
      }
      const when = whenTrue[i] === 1;
      const s = device.state[i];
      if (s === 2) {
        const clears = rule.clear ? clearTrue[i] === 1 : !when;
        if (clears) {
          device.state[i] = 0;
          emitted++;
        }
        return;
      }
      if (!when) {
        device.state[i] = 0;
        return;
      }
      if (s === 0) {
        device.state[i] = 1;
        device.since[i] = tau;
      }
      const cooled = Number.isNaN(device.lastFire[i]) || tau >= device.lastFire[i] + rule.cooldownMs;
      if (tau >= device.since[i] + rule.forMs && cooled) {
        device.state[i] = 2;
        device.lastFire[i] = tau;
        emitted++;
      }
    });
    this.transitions += emitted;
    return emitted;
  }

  private top(e: Expr): TopLevelCondition {
    const c = this.condition(e);
    return 'all' in c || 'any' in c || 'not' in c ? (c as TopLevelCondition) : { all: [c] };
  }

  private condition(e: Expr): NestedCondition {
    if (e.op === 'and') return { all: [this.condition(e.left), this.condition(e.right)] };
    if (e.op === 'or') return { any: [this.condition(e.left), this.condition(e.right)] };
    if (e.op === 'not') return { not: this.condition(e.arg) };
    if (e.op in OPERATORS && 'left' in e) {
      return { fact: 'expr', params: { id: this.side(e.left) }, operator: OPERATORS[e.op], value: { fact: 'expr', params: { id: this.side(e.right) } } };
    }
    // A bare numeric expression used as a condition: true when non-zero and not NaN.
    return { fact: 'expr', params: { id: this.side(e) }, operator: 'notEqual', value: 0 };
  }

  private side(e: Expr): number {
    this.exprs.push(e);
    return this.exprs.length - 1;
  }
}

export { numericAttr };
