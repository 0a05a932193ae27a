// Surface syntax tree of a rule expression, straight from the parser. Positions are
// offsets into the expression text; the loader maps them to YAML line:col.

export type BinaryOp = '+' | '-' | '*' | '/' | '<' | '<=' | '>' | '>=' | '==' | '!=' | 'and' | 'or';

export type Node =
  | { kind: 'num'; value: number; text: string; pos: number }
  /** A number with a unit suffix (`5m`, or a bad one like `5x`); only valid as a duration argument. */
  | { kind: 'dur'; text: string; pos: number }
  /** A bare name: a metric (= last(m)) or `device.NAME`. */
  | { kind: 'name'; name: string; pos: number }
  /** A quoted metric name, for names the bare syntax cannot spell (`'error-rate'`). */
  | { kind: 'str'; value: string; pos: number }
  | { kind: 'call'; name: string; args: Node[]; pos: number }
  | { kind: 'unary'; op: '-' | 'not'; arg: Node; pos: number }
  | { kind: 'binary'; op: BinaryOp; left: Node; right: Node; pos: number; opPos: number };

/** Operator precedence, loosest first; the printer and the parser share it. */
export const PRECEDENCE: Record<BinaryOp, number> = {
  or: 1,
  and: 2,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  '==': 4,
  '!=': 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
};
export const NOT_PRECEDENCE = 3;
export const NEG_PRECEDENCE = 7;
export const ATOM_PRECEDENCE = 8;

export const COMPARISONS: ReadonlySet<string> = new Set(['<', '<=', '>', '>=', '==', '!=']);
export const ARITHMETIC: ReadonlySet<string> = new Set(['+', '-', '*', '/']);

/** A problem at an offset of the expression text. */
export interface ExprError {
  pos: number;
  message: string;
}
