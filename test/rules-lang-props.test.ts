import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Expr, ProgramSpec } from '../src/kernel/program-spec.js';
import { compileRules, NameTables } from '../src/rules/index.js';

// Random expression trees, written with full and with minimal parentheses and random
// spacing: both must compile to the same program and key, and the program must compute
// what the tree means (so precedence, associativity and constant folding are right).

type Num =
  | { k: 'num'; v: number }
  | { k: 'feat'; written: string; canonical: string }
  | { k: 'attr'; name: string }
  | { k: 'neg' | 'abs'; a: Num }
  | { k: '+' | '-' | '*' | '/'; l: Num; r: Num };
type Cond = { k: '<' | '<=' | '>' | '>=' | '==' | '!='; l: Num; r: Num } | { k: 'and' | 'or'; l: Cond; r: Cond } | { k: 'not'; a: Cond };

const FEATURES: Array<[string, string]> = [
  ['avg(temperature, 5m)', 'avg(temperature, 5m)'],
  ['avg(temperature,300s)', 'avg(temperature, 5m)'],
  ['avg( temperature , 5m , 15s )', 'avg(temperature, 5m)'],
  ['temperature', 'last(temperature)'],
  ['last(temperature)', 'last(temperature)'],
  ['rate(error, 10m, 30s)', 'rate(error, 10m)'],
  ['rate_deriv(error, 10m, 1m)', 'rate_deriv(error, 10m, 1m)'],
  ['ewma(x, 60s)', 'ewma(x, 1m)'],
  ["last('cpu-load')", 'last(cpu-load)'],
  ['deriv2(x, 1h, 6m)', 'deriv2(x, 1h, 6m)'],
  ['age(x)', 'age(x)'],
];
const ATTRS = ['setpoint', 'floor', 'x_1'];

const num: fc.Arbitrary<Num> = fc.letrec<{ num: Num }>((tie) => ({
  num: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })).map((v) => ({ k: 'num' as const, v: Object.is(v, -0) ? 0 : v })),
    fc.constantFrom(...FEATURES).map(([written, canonical]) => ({ k: 'feat' as const, written, canonical })),
    fc.constantFrom(...ATTRS).map((name) => ({ k: 'attr' as const, name })),
    fc.record({ k: fc.constantFrom('neg' as const, 'abs' as const), a: tie('num') }),
    fc.record({ k: fc.constantFrom('+' as const, '-' as const, '*' as const, '/' as const), l: tie('num'), r: tie('num') }),
  ),
})).num;

const cond: fc.Arbitrary<Cond> = fc.letrec<{ cond: Cond }>((tie) => ({
  cond: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ k: fc.constantFrom('<' as const, '<=' as const, '>' as const, '>=' as const, '==' as const, '!=' as const), l: num, r: num }),
    fc.record({ k: fc.constantFrom('and' as const, 'or' as const), l: tie('cond'), r: tie('cond') }),
    fc.record({ k: fc.constant('not' as const), a: tie('cond') }),
  ),
})).cond;

const PREC: Record<string, number> = { or: 1, and: 2, not: 3, '<': 4, '<=': 4, '>': 4, '>=': 4, '==': 4, '!=': 4, '+': 5, '-': 5, '*': 6, '/': 6, neg: 7 };
const prec = (t: Num | Cond): number => (t.k === 'num' ? (t.v < 0 ? 7 : 8) : t.k in PREC ? PREC[t.k] : 8);

function render(t: Num | Cond, full: boolean, sp: () => string): string {
  const paren = (x: Num | Cond, need: boolean) => (full || need ? `(${sp()}${render(x, full, sp)}${sp()})` : render(x, full, sp));
  switch (t.k) {
    case 'num':
      return String(t.v);
    case 'feat':
      return t.written;
    case 'attr':
      return `device.${t.name}`;
    case 'abs':
      return `abs(${sp()}${render(t.a, full, sp)}${sp()})`;
    case 'neg':
      return `-${sp()}${paren(t.a, prec(t.a) < 7)}`;
    case 'not':
      return `not ${sp()}${paren(t.a, prec(t.a) < 3)}`;
    default: {
      const p = PREC[t.k];
      return `${paren(t.l, prec(t.l) < p)} ${sp()}${t.k}${sp()} ${paren(t.r, prec(t.r) <= p)}`;
    }
  }
}

type Env = { feature: (canonical: string) => number; attr: (name: string) => number };

function evalNum(t: Num, env: Env): number {
  switch (t.k) {
    case 'num':
      return t.v;
    case 'feat':
      return env.feature(t.canonical);
    case 'attr':
      return env.attr(t.name);
    case 'neg':
      return -evalNum(t.a, env);
    case 'abs':
      return Math.abs(evalNum(t.a, env));
    case '+':
      return evalNum(t.l, env) + evalNum(t.r, env);
    case '-':
      return evalNum(t.l, env) - evalNum(t.r, env);
    case '*':
      return evalNum(t.l, env) * evalNum(t.r, env);
    case '/':
      return evalNum(t.l, env) / evalNum(t.r, env);
  }
}

function evalCond(t: Cond, env: Env): boolean {
  switch (t.k) {
    case 'and':
      return evalCond(t.l, env) && evalCond(t.r, env);
    case 'or':
      return evalCond(t.l, env) || evalCond(t.r, env);
    case 'not':
      return !evalCond(t.a, env);
    default: {
      const l = evalNum(t.l, env);
      const r = evalNum(t.r, env);
      // SPEC §4.1: any comparison involving NaN is false, `!=` included.
      if (Number.isNaN(l) || Number.isNaN(r)) return false;
      return { '<': l < r, '<=': l <= r, '>': l > r, '>=': l >= r, '==': l === r, '!=': l !== r }[t.k];
    }
  }
}

/** The program's meaning (booleans as 1/0), as the kernel and the reference model compute it. */
function evalExpr(e: Expr, spec: ProgramSpec, env: Env): number {
  const v = (x: Expr) => evalExpr(x, spec, env);
  switch (e.op) {
    case 'num':
      return e.value;
    case 'feature':
      return env.feature(spec.features[e.index].canonical);
    case 'attr':
      return env.attr(spec.attrs[e.attr]);
    case 'neg':
      return -v(e.arg);
    case 'abs':
      return Math.abs(v(e.arg));
    case 'not':
      return v(e.arg) !== 0 ? 0 : 1;
    case 'and':
      return v(e.left) !== 0 && v(e.right) !== 0 ? 1 : 0;
    case 'or':
      return v(e.left) !== 0 || v(e.right) !== 0 ? 1 : 0;
    case '+':
      return v(e.left) + v(e.right);
    case '-':
      return v(e.left) - v(e.right);
    case '*':
      return v(e.left) * v(e.right);
    case '/':
      return v(e.left) / v(e.right);
    default: {
      const l = v(e.left);
      const r = v(e.right);
      if (Number.isNaN(l) || Number.isNaN(r)) return 0;
      const res = { '<': l < r, '<=': l <= r, '>': l > r, '>=': l >= r, '==': l === r, '!=': l !== r }[e.op];
      return res ? 1 : 0;
    }
  }
}

const value = fc.oneof(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, 4));

function compileWhen(text: string): ProgramSpec {
  const yaml = `rules:\n  - id: r\n    when: ${JSON.stringify(text)}\n`;
  const r = compileRules(yaml, { tables: new NameTables(), version: 1 });
  if (!r.ok) throw new Error(`${text}\n${r.errors.join('\n')}`);
  return r.spec;
}

describe('rule language: properties', () => {
  it('minimal and fully parenthesised spellings compile to one program that means the tree', () => {
    fc.assert(
      fc.property(cond, fc.array(fc.constantFrom('', ' ', '  ', '\t'), { minLength: 1, maxLength: 8 }), fc.array(value, { minLength: 16, maxLength: 16 }), (tree, spaces, values) => {
        let i = 0;
        const sp = () => spaces[i++ % spaces.length];
        const minimal = render(tree, false, () => '');
        const full = render(tree, true, sp);
        const a = compileWhen(minimal);
        const b = compileWhen(full);
        expect(b.rules[0].key).toBe(a.rules[0].key);
        expect(b.rules[0].when).toEqual(a.rules[0].when);
        const names = [...FEATURES.map(([, c]) => c), ...ATTRS.map((x) => `device.${x}`)];
        const lookup = (name: string) => values[names.indexOf(name) % values.length];
        const env: Env = { feature: (c) => lookup(c), attr: (n) => lookup(`device.${n}`) };
        expect(evalExpr(a.rules[0].when, a, env)).toBe(evalCond(tree, env) ? 1 : 0);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary text in when, for, match or the whole file', () => {
    const tables = new NameTables();
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.string({ maxLength: 200 }), (expr, file) => {
        const yaml = `rules:\n  - id: r\n    when: ${JSON.stringify(expr)}\n    for: ${JSON.stringify(expr)}\n    match: { a: ${JSON.stringify(expr)} }\n`;
        const r = compileRules(yaml, { tables, version: 1 });
        if (!r.ok) for (const e of r.errors) expect(e).toMatch(/^\d+:\d+: ./);
        const r2 = compileRules(file, { tables, version: 1 });
        if (!r2.ok) for (const e of r2.errors) expect(e).toMatch(/^\d+:\d+: ./);
      }),
      { numRuns: 300 },
    );
  });
});
