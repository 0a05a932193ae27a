// Type checking and name resolution of a parsed expression. Reports every problem it
// finds (not only the first) and avoids cascades: an operand that already failed is
// not reported again by the operator that uses it.

import { FeatureFn } from '../../kernel/program-spec.js';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../durations.js';
import { ARITHMETIC, COMPARISONS, type ExprError, type Node } from './ast.js';
import { FEATURE_FUNCTIONS, FUNCTION_NAMES, type FunctionInfo, MAX_BUCKETS_PER_WINDOW, METRIC_NAME_RE } from './functions.js';
import type { FeatureDef, Resolved } from './resolved.js';

type Type = 'number' | 'bool';

interface Checked {
  /** null: already reported. */
  type: Type | null;
  expr: Resolved | null;
}

const FAILED: Checked = { type: null, expr: null };

export interface CheckOptions {
  /** Default bucket count per window (SPEC: W/20). */
  defaultBuckets: number;
}

const DEVICE_PREFIX = 'device.';

/** Checks `node` as a condition (`when`, `clear`); returns the resolved tree or null when errors were pushed. */
export function checkCondition(node: Node, errors: ExprError[], opts: CheckOptions): Resolved | null {
  const c = new Checker(errors, opts);
  const before = errors.length;
  const r = c.expect(node, 'bool');
  return errors.length === before ? r : null;
}

class Checker {
  constructor(private readonly errors: ExprError[], private readonly opts: CheckOptions) {}

  private fail(pos: number, message: string): Checked {
    this.errors.push({ pos, message });
    return FAILED;
  }

  expect(node: Node, want: Type): Resolved | null {
    const r = this.infer(node);
    if (r.type === null) return null;
    if (r.type !== want) {
      if (want === 'bool') this.errors.push({ pos: node.pos, message: 'a number used as a condition' });
      else this.errors.push({ pos: node.pos, message: `${describeBool(node)} used as a number` });
      return null;
    }
    return r.expr;
  }

  private infer(node: Node): Checked {
    switch (node.kind) {
      case 'num':
        if (!Number.isFinite(node.value)) return this.fail(node.pos, `bad number '${node.text}'`);
        return { type: 'number', expr: { op: 'num', value: node.value } };
      case 'dur':
        if (parseDuration(node.text) === null) return this.fail(node.pos, `bad duration '${node.text}'`);
        return this.fail(node.pos, `duration '${node.text}' used as a number`);
      case 'str':
        return this.lastOf(node.value, node.pos);
      case 'name':
        if (node.name.startsWith(DEVICE_PREFIX)) {
          const attr = node.name.slice(DEVICE_PREFIX.length);
          if (attr.length === 0) return this.fail(node.pos, "bad attribute name in 'device.'");
          return { type: 'number', expr: { op: 'attr', name: attr } };
        }
        return this.lastOf(node.name, node.pos);
      case 'call':
        return this.call(node);
      case 'unary': {
        if (node.op === 'not') {
          const arg = this.expect(node.arg, 'bool');
          return arg === null ? FAILED : { type: 'bool', expr: { op: 'not', arg } };
        }
        const arg = this.expect(node.arg, 'number');
        if (arg === null) return FAILED;
        // `-4` and `- 4` are one constant, so their canonical text is the same.
        if (arg.op === 'num') return { type: 'number', expr: { op: 'num', value: -arg.value } };
        return { type: 'number', expr: { op: 'neg', arg } };
      }
      case 'binary': {
        const operand: Type = node.op === 'and' || node.op === 'or' ? 'bool' : 'number';
        const left = this.expect(node.left, operand);
        const right = this.expect(node.right, operand);
        if (left === null || right === null) return FAILED;
        const type: Type = ARITHMETIC.has(node.op) ? 'number' : 'bool';
        return { type, expr: { op: node.op, left, right } };
      }
    }
  }

  private lastOf(metric: string, pos: number): Checked {
    if (!this.metricOk(metric, pos)) return FAILED;
    return feature({ fn: FeatureFn.Last, metric, windowMs: 0, bucketMs: 0, halfLifeMs: 0 });
  }

  private metricOk(metric: string, pos: number): boolean {
    if (METRIC_NAME_RE.test(metric)) return true;
    this.errors.push({ pos, message: `bad metric name '${metric}' (1..64 characters of A-Z a-z 0-9 . _ : -)` });
    return false;
  }

  private call(node: Extract<Node, { kind: 'call' }>): Checked {
    if (node.name === 'abs') {
      if (node.args.length !== 1) return this.fail(node.pos, `'abs' takes 1 argument, got ${node.args.length}`);
      const arg = this.expect(node.args[0], 'number');
      return arg === null ? FAILED : { type: 'number', expr: { op: 'abs', arg } };
    }
    const info = FEATURE_FUNCTIONS.get(node.name);
    if (info === undefined) return this.fail(node.pos, `unknown function '${node.name}'`);
    return this.featureCall(node, info);
  }

  private featureCall(node: Extract<Node, { kind: 'call' }>, info: FunctionInfo): Checked {
    const { args, name } = node;
    const arity = info.shape === 'windowed' ? [2, 3] : info.shape === 'half-life' ? [2, 2] : [1, 1];
    if (args.length < arity[0] || args.length > arity[1]) {
      const usage = info.shape === 'windowed' ? '(metric, window[, bucket])' : info.shape === 'half-life' ? '(metric, half-life)' : '(metric)';
      const count = arity[0] === arity[1] ? `${arity[0]} argument${arity[0] === 1 ? '' : 's'}` : `${arity[0]} or ${arity[1]} arguments`;
      return this.fail(node.pos, `'${name}' takes ${count} ${usage}, got ${args.length}`);
    }
    const metric = this.metricArg(args[0], name);
    if (info.shape === 'metric') {
      if (metric === null) return FAILED;
      return feature({ fn: info.fn, metric, windowMs: 0, bucketMs: 0, halfLifeMs: 0 });
    }
    if (info.shape === 'half-life') {
      const h = this.durationArg(args[1], 'half-life');
      if (metric === null || h === null) return FAILED;
      return feature({ fn: info.fn, metric, windowMs: 0, bucketMs: 0, halfLifeMs: h });
    }
    const w = this.durationArg(args[1], 'window');
    const b = args.length === 3 ? this.durationArg(args[2], 'bucket width') : null;
    if (metric === null || w === null || (args.length === 3 && b === null)) return FAILED;
    let bucket: number;
    if (b === null) {
      if (w % this.opts.defaultBuckets !== 0) {
        return this.fail(args[1].pos, `default bucket width ${formatDuration(w)}/${this.opts.defaultBuckets} is not a whole number of ms; give a bucket width as the third argument`);
      }
      bucket = w / this.opts.defaultBuckets;
    } else {
      if (w % b !== 0) return this.fail(args[2].pos, `bucket width ${formatDuration(b)} does not divide window ${formatDuration(w)}`);
      bucket = b;
    }
    // The rate fits use the window's completed buckets, all but the current one (SPEC §4.1).
    const needed = info.fn === FeatureFn.RateDeriv ? 3 : info.fn === FeatureFn.RateDeriv2 ? 4 : 1;
    if (w / bucket < needed) {
      return this.fail(args[args.length - 1].pos, `'${name}' needs a window of at least ${needed} buckets (it fits completed buckets only), got ${w / bucket}`);
    }
    if (w / bucket > MAX_BUCKETS_PER_WINDOW) {
      return this.fail(args[args.length - 1].pos, `too many buckets: window ${formatDuration(w)} / bucket ${formatDuration(bucket)} = ${w / bucket} (at most ${MAX_BUCKETS_PER_WINDOW})`);
    }
    return feature({ fn: info.fn, metric, windowMs: w, bucketMs: bucket, halfLifeMs: 0 }, this.opts.defaultBuckets);
  }

  private metricArg(arg: Node, fn: string): string | null {
    let metric: string;
    if (arg.kind === 'str') metric = arg.value;
    else if (arg.kind === 'name' && !arg.name.startsWith(DEVICE_PREFIX)) metric = arg.name;
    else {
      this.errors.push({ pos: arg.pos, message: `first argument of '${fn}' must be a metric name` });
      return null;
    }
    return this.metricOk(metric, arg.pos) ? metric : null;
  }

  private durationArg(arg: Node, what: string): number | null {
    if (arg.kind === 'num') {
      this.errors.push({ pos: arg.pos, message: `${what} '${arg.text}' needs a unit: ms, s, m, h or d` });
      return null;
    }
    if (arg.kind !== 'dur') {
      this.errors.push({ pos: arg.pos, message: `expected a ${what} (a duration like 500ms, 10s, 5m, 2h, 1d)` });
      return null;
    }
    const ms = parseDuration(arg.text);
    if (ms === null) {
      this.errors.push({ pos: arg.pos, message: `bad duration '${arg.text}'` });
      return null;
    }
    if (ms <= 0) {
      this.errors.push({ pos: arg.pos, message: `${what} must be longer than 0` });
      return null;
    }
    if (ms > MAX_DURATION_MS) {
      this.errors.push({ pos: arg.pos, message: `${what} ${formatDuration(ms)} is longer than ${formatDuration(MAX_DURATION_MS)}` });
      return null;
    }
    return ms;
  }
}

function describeBool(node: Node): string {
  if (node.kind === 'binary' && COMPARISONS.has(node.op)) return 'a comparison';
  return 'a condition';
}

function feature(def: Omit<FeatureDef, 'canonical'>, defaultBuckets = 20): Checked {
  return { type: 'number', expr: { op: 'feature', feature: { ...def, canonical: canonicalFeature(def, defaultBuckets) } } };
}

/** SPEC §4.1 canonical text of a feature. */
export function canonicalFeature(def: Omit<FeatureDef, 'canonical'>, defaultBuckets = 20): string {
  const name = FUNCTION_NAMES.get(def.fn) ?? '?';
  if (def.fn === FeatureFn.Last || def.fn === FeatureFn.Age) return `${name}(${def.metric})`;
  if (def.fn === FeatureFn.Ewma) return `${name}(${def.metric}, ${formatDuration(def.halfLifeMs)})`;
  const w = formatDuration(def.windowMs);
  if (def.bucketMs * defaultBuckets === def.windowMs) return `${name}(${def.metric}, ${w})`;
  return `${name}(${def.metric}, ${w}, ${formatDuration(def.bucketMs)})`;
}
