// Canonical text of a checked expression: the identity of a rule definition across
// reloads. Features print as their canonical names, numbers in JS shortest form, and
// parentheses appear only where precedence needs them, so reformatting a rule
// (spaces, redundant parentheses, `4.0` for `4`) does not change it.

import { ATOM_PRECEDENCE, type BinaryOp, NEG_PRECEDENCE, NOT_PRECEDENCE, PRECEDENCE } from './ast.js';
import type { Resolved } from './resolved.js';

function precedence(e: Resolved): number {
  switch (e.op) {
    case 'num':
      return e.value < 0 || Object.is(e.value, -0) ? NEG_PRECEDENCE : ATOM_PRECEDENCE;
    case 'feature':
    case 'attr':
    case 'abs':
      return ATOM_PRECEDENCE;
    case 'neg':
      return NEG_PRECEDENCE;
    case 'not':
      return NOT_PRECEDENCE;
    default:
      return PRECEDENCE[e.op];
  }
}

function wrap(e: Resolved, needsParens: boolean): string {
  const s = printExpr(e);
  return needsParens ? `(${s})` : s;
}

export function printExpr(e: Resolved): string {
  switch (e.op) {
    case 'num':
      return Object.is(e.value, -0) ? '-0' : String(e.value);
    case 'feature':
      return e.feature.canonical;
    case 'attr':
      return `device.${e.name}`;
    case 'abs':
      return `abs(${printExpr(e.arg)})`;
    case 'neg':
      return `-${wrap(e.arg, precedence(e.arg) < NEG_PRECEDENCE)}`;
    case 'not':
      return `not ${wrap(e.arg, precedence(e.arg) < NOT_PRECEDENCE)}`;
    default: {
      const p = PRECEDENCE[e.op as BinaryOp];
      // Left-associative: the right operand needs parentheses at equal precedence.
      return `${wrap(e.left, precedence(e.left) < p)} ${e.op} ${wrap(e.right, precedence(e.right) <= p)}`;
    }
  }
}
