// A checked expression: names resolved to feature definitions and attribute names, but
// not yet to the global ids of NameTables (those are interned only once a whole rule
// set is valid, so a rejected set never grows the tables).
import type { FeatureFn } from '../../kernel/program-spec.js';
import type { BinaryOp } from './ast.js';

export interface FeatureDef {
  fn: FeatureFn;
  metric: string;
  windowMs: number;
  bucketMs: number;
  halfLifeMs: number;
  /** SPEC §4.1 canonical text. */
  canonical: string;
}

export type Resolved =
  | { op: 'num'; value: number }
  | { op: 'feature'; feature: FeatureDef }
  | { op: 'attr'; name: string }
  | { op: 'abs' | 'neg' | 'not'; arg: Resolved }
  | { op: BinaryOp; left: Resolved; right: Resolved };
