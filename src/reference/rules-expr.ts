// Expression semantics of SPEC §4.1 over the ProgramSpec tree, shared by the reference
// engine. Booleans are 1/0; any comparison involving NaN is false; a value is true when it
// is neither 0 nor NaN.
import type { Expr, MatchClause } from '../kernel/program-spec.js';

export type AttrValue = { kind: 'number' | 'string'; value: number };

export interface ExprContext {
  feature(index: number): number;
  /** Numeric attribute value; NaN when absent or a string. */
  attr(attr: number): number;
}

export const truthy = (v: number): boolean => v !== 0 && !Number.isNaN(v);
const b = (x: boolean): number => (x ? 1 : 0);
const bothNumbers = (x: number, y: number): boolean => !Number.isNaN(x) && !Number.isNaN(y);

export function evaluate(e: Expr, ctx: ExprContext): number {
  switch (e.op) {
    case 'num': return e.value;
    case 'feature': return ctx.feature(e.index);
    case 'attr': return ctx.attr(e.attr);
    case 'abs': return Math.abs(evaluate(e.arg, ctx));
    case 'neg': return -evaluate(e.arg, ctx);
    case 'not': return b(!truthy(evaluate(e.arg, ctx)));
    default: {
      const l = evaluate(e.left, ctx);
      const r = evaluate(e.right, ctx);
      switch (e.op) {
        case '+': return l + r;
        case '-': return l - r;
        case '*': return l * r;
        case '/': return l / r;
        case '<': return b(l < r);
        case '<=': return b(l <= r);
        case '>': return b(l > r);
        case '>=': return b(l >= r);
        case '==': return b(l === r);
        case '!=': return b(bothNumbers(l, r) && l !== r);
        case 'and': return b(truthy(l) && truthy(r));
        case 'or': return b(truthy(l) || truthy(r));
      }
    }
  }
  return NaN;
}

/** Every clause must hold; a clause holds when the attribute equals one of its values (kind and value). */
export function matchesAll(match: MatchClause[], attrs: ReadonlyMap<number, AttrValue> | undefined): boolean {
  for (const clause of match) {
    const a = attrs?.get(clause.attr);
    if (!a) return false;
    if (!clause.values.some((v) => v.kind === a.kind && v.value === a.value)) return false;
  }
  return true;
}

export function numericAttr(attrs: ReadonlyMap<number, AttrValue> | undefined, attr: number): number {
  const a = attrs?.get(attr);
  return a && a.kind === 'number' ? a.value : NaN;
}
