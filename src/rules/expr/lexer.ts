// Hand-written lexer for SPEC §4.1 expressions. Names may contain `.` and `:` (metric
// charset, `device.setpoint`) and `_` (function names); a metric name the bare syntax
// cannot spell (a leading digit, a `-`) is written in quotes.

import type { ExprError } from './ast.js';

export type TokenKind = 'num' | 'dur' | 'name' | 'str' | 'op' | '(' | ')' | ',' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Source text; for `str` the unquoted value. */
  text: string;
  pos: number;
}

const OPERATORS = ['<=', '>=', '==', '!=', '<', '>', '+', '-', '*', '/'];

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isNameStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isNameChar(c: string): boolean {
  return isNameStart(c) || isDigit(c) || c === '.' || c === ':';
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** Tokens of `src`, ending with `eof`; or the first lexical error. */
export function tokenize(src: string): { tokens: Token[] } | { error: ExprError } {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (isDigit(c) || (c === '.' && isDigit(src[i + 1] ?? ''))) {
      while (isDigit(src[i] ?? '')) i++;
      if (src[i] === '.') {
        i++;
        while (isDigit(src[i] ?? '')) i++;
      }
      if ((src[i] === 'e' || src[i] === 'E') && (isDigit(src[i + 1] ?? '') || ((src[i + 1] === '+' || src[i + 1] === '-') && isDigit(src[i + 2] ?? '')))) {
        i += 2;
        while (isDigit(src[i] ?? '')) i++;
      }
      if (isNameChar(src[i] ?? '')) {
        // A unit suffix (or a typo of one): judged where the token is used.
        while (isNameChar(src[i] ?? '')) i++;
        tokens.push({ kind: 'dur', text: src.slice(start, i), pos: start });
      } else {
        tokens.push({ kind: 'num', text: src.slice(start, i), pos: start });
      }
      continue;
    }
    if (isNameStart(c)) {
      while (isNameChar(src[i] ?? '')) i++;
      tokens.push({ kind: 'name', text: src.slice(start, i), pos: start });
      continue;
    }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) return { error: { pos: start, message: 'unterminated quoted name' } };
      tokens.push({ kind: 'str', text: src.slice(i + 1, end), pos: start });
      i = end + 1;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c, pos: start });
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op !== undefined) {
      tokens.push({ kind: 'op', text: op, pos: start });
      i += op.length;
      continue;
    }
    if (c === '=') return { error: { pos: start, message: "unexpected '=' (use '==' to compare)" } };
    if (c === '&' || c === '|' || c === '!') {
      return { error: { pos: start, message: `unexpected '${c}' (use 'and', 'or', 'not')` } };
    }
    return { error: { pos: start, message: `unexpected character '${c}'` } };
  }
  tokens.push({ kind: 'eof', text: '', pos: src.length });
  return { tokens };
}
