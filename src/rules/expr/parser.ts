// Recursive-descent parser for SPEC §4.1 expressions. Precedence, loosest first:
// or < and < not < comparisons < + - < * / < unary minus < atoms. Comparisons parse
// left-associatively so `a < b < c` reaches the type checker, which explains it.

import { type BinaryOp, type ExprError, type Node, PRECEDENCE } from './ast.js';
import { type Token, tokenize } from './lexer.js';

class SyntaxFailure extends Error {
  constructor(readonly pos: number, message: string) {
    super(message);
  }
}

/** Parses one expression; a syntax error ends the parse (type and name errors come later, all of them). */
export function parseExpression(src: string): { node: Node } | { error: ExprError } {
  const lexed = tokenize(src);
  if ('error' in lexed) return lexed;
  const p = new Parser(lexed.tokens);
  try {
    if (p.peek().kind === 'eof') return { error: { pos: 0, message: 'empty expression' } };
    const node = p.expression();
    const t = p.peek();
    if (t.kind !== 'eof') return { error: { pos: t.pos, message: `unexpected ${describe(t)}` } };
    return { node };
  } catch (e) {
    if (e instanceof SyntaxFailure) return { error: { pos: e.pos, message: e.message } };
    throw e;
  }
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of expression';
  if (t.kind === 'str') return `'${t.text}'`;
  return `'${t.text}'`;
}

/** Deep inputs must not blow the JS stack: the rules file is user input. */
const MAX_DEPTH = 200;

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  peek(): Token {
    return this.tokens[this.i];
  }

  private next(): Token {
    const t = this.tokens[this.i];
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private isOp(...ops: string[]): boolean {
    const t = this.peek();
    return (t.kind === 'op' || t.kind === 'name') && ops.includes(t.text);
  }

  expression(): Node {
    if (++this.depth > MAX_DEPTH) throw new SyntaxFailure(this.peek().pos, 'expression nested too deeply');
    const n = this.binary(PRECEDENCE.or);
    this.depth--;
    return n;
  }

  private binary(level: number): Node {
    if (level === 3) return this.notLevel();
    if (level === 7) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      const op = t.text as BinaryOp;
      const isBinary = (t.kind === 'op' || (t.kind === 'name' && (op === 'and' || op === 'or'))) && PRECEDENCE[op] === level;
      if (!isBinary) return left;
      this.next();
      const right = this.binary(level + 1);
      left = { kind: 'binary', op, left, right, pos: left.pos, opPos: t.pos };
    }
  }

  private notLevel(): Node {
    if (this.isOp('not')) {
      const t = this.next();
      if (++this.depth > MAX_DEPTH) throw new SyntaxFailure(t.pos, 'expression nested too deeply');
      const arg = this.notLevel();
      this.depth--;
      return { kind: 'unary', op: 'not', arg, pos: t.pos };
    }
    return this.binary(4);
  }

  private unary(): Node {
    const t = this.peek();
    if (t.kind === 'op' && t.text === '-') {
      this.next();
      if (++this.depth > MAX_DEPTH) throw new SyntaxFailure(t.pos, 'expression nested too deeply');
      const arg = this.unary();
      this.depth--;
      return { kind: 'unary', op: '-', arg, pos: t.pos };
    }
    if (t.kind === 'op' && t.text === '+') {
      throw new SyntaxFailure(t.pos, "unexpected '+'");
    }
    return this.atom();
  }

  private atom(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'num':
        return { kind: 'num', value: Number(t.text), text: t.text, pos: t.pos };
      case 'dur':
        return { kind: 'dur', text: t.text, pos: t.pos };
      case 'str':
        return { kind: 'str', value: t.text, pos: t.pos };
      case '(': {
        const inner = this.expression();
        this.expectClose();
        return inner;
      }
      case 'name': {
        if (t.text === 'and' || t.text === 'or' || t.text === 'not') {
          throw new SyntaxFailure(t.pos, `unexpected '${t.text}'`);
        }
        if (this.peek().kind !== '(') return { kind: 'name', name: t.text, pos: t.pos };
        this.next();
        const args: Node[] = [];
        if (this.peek().kind !== ')') {
          for (;;) {
            args.push(this.expression());
            if (this.peek().kind !== ',') break;
            this.next();
          }
        }
        this.expectClose();
        return { kind: 'call', name: t.text, args, pos: t.pos };
      }
      default:
        throw new SyntaxFailure(t.pos, `unexpected ${describe(t)}`);
    }
  }

  private expectClose(): void {
    const t = this.peek();
    if (t.kind !== ')') {
      throw new SyntaxFailure(t.pos, t.kind === 'eof' ? "missing ')'" : `expected ')' but found ${describe(t)}`);
    }
    this.next();
  }
}
