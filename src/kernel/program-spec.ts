// The contract between the rule compiler (src/rules/) and everything that runs rules:
// the WASM kernel (through encodeProgram in src/kernel/program.ts) and the plain
// TypeScript reference model (src/reference/). A ProgramSpec is plain data: no strings
// reach the kernel except through the `meta` section the worker reads.

/** Feature functions of SPEC §4.1. Numeric values are part of the binary program format. */
export const FeatureFn = {
  Last: 1,
  Count: 2,
  Sum: 3,
  Avg: 4,
  Min: 5,
  Max: 6,
  Stddev: 7,
  Delta: 8,
  Rate: 9,
  Deriv: 10,
  Deriv2: 11,
  RateDeriv: 12,
  RateDeriv2: 13,
  Ewma: 14,
  Age: 15,
} as const;
export type FeatureFn = (typeof FeatureFn)[keyof typeof FeatureFn];

export interface FeatureSpec {
  fn: FeatureFn;
  /** Global metric id (index into ProgramSpec.metrics). */
  metric: number;
  /** Window W in ms for windowed functions; 0 for last, ewma and age. */
  windowMs: number;
  /** Bucket width B in ms (divides W); 0 for last, ewma and age. */
  bucketMs: number;
  /** Half-life H in ms for ewma; 0 otherwise. */
  halfLifeMs: number;
  /** SPEC §4.1 canonical text, e.g. "avg(temperature, 5m)"; the identity used across reloads. */
  canonical: string;
}

/** Expression tree. Booleans are 1/0 doubles; any comparison with NaN is false. */
export type Expr =
  | { op: 'num'; value: number }
  | { op: 'feature'; index: number } // index into ProgramSpec.features
  | { op: 'attr'; attr: number } // global attribute id; NaN when absent or not numeric
  | { op: 'abs' | 'neg' | 'not'; arg: Expr }
  | {
      op: '+' | '-' | '*' | '/' | '<' | '<=' | '>' | '>=' | '==' | '!=' | 'and' | 'or';
      left: Expr;
      right: Expr;
    };

/** One `match` key: the device attribute must equal one of the values. Clauses are ANDed. */
export interface MatchClause {
  attr: number;
  values: Array<{ kind: 'number'; value: number } | { kind: 'string'; value: number /* interned string id */ }>;
}

/** What a transition record carries in `values`, in this order. */
export type Read = { kind: 'feature'; index: number } | { kind: 'attr'; attr: number };

export interface RuleSpec {
  id: string;
  /** Canonical definition (when, clear, for, cooldown, match): equal keys keep state across reloads. */
  key: string;
  when: Expr;
  /** null: clears when `when` is false. */
  clear: Expr | null;
  forMs: number; // 0: fire at once
  cooldownMs: number; // 0: none
  /** Reads age(): also evaluated on every engine tick. */
  usesAge: boolean;
  match: MatchClause[];
  reads: Read[];
  /** Action names (not seen by the kernel; the dispatcher tags records with them). */
  actions: string[];
}

export interface ProgramSpec {
  /** Rules version (rises by one per accepted rule set). */
  version: number;
  /** Global, append-only name tables: ids never change for the life of the engine. */
  metrics: string[];
  attrs: string[];
  strings: string[];
  /** Deduplicated by canonical text. */
  features: FeatureSpec[];
  rules: RuleSpec[];
}
