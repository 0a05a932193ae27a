// The feature functions of SPEC §4.1 and the shape of their arguments.
import { FeatureFn } from '../../kernel/program-spec.js';

export type FunctionShape =
  /** (metric, W[, B]) */
  | 'windowed'
  /** (metric) */
  | 'metric'
  /** (metric, H) */
  | 'half-life';

export interface FunctionInfo {
  fn: FeatureFn;
  shape: FunctionShape;
}

export const FEATURE_FUNCTIONS: ReadonlyMap<string, FunctionInfo> = new Map<string, FunctionInfo>([
  ['last', { fn: FeatureFn.Last, shape: 'metric' }],
  ['count', { fn: FeatureFn.Count, shape: 'windowed' }],
  ['sum', { fn: FeatureFn.Sum, shape: 'windowed' }],
  ['avg', { fn: FeatureFn.Avg, shape: 'windowed' }],
  ['min', { fn: FeatureFn.Min, shape: 'windowed' }],
  ['max', { fn: FeatureFn.Max, shape: 'windowed' }],
  ['stddev', { fn: FeatureFn.Stddev, shape: 'windowed' }],
  ['delta', { fn: FeatureFn.Delta, shape: 'windowed' }],
  ['rate', { fn: FeatureFn.Rate, shape: 'windowed' }],
  ['deriv', { fn: FeatureFn.Deriv, shape: 'windowed' }],
  ['deriv2', { fn: FeatureFn.Deriv2, shape: 'windowed' }],
  ['rate_deriv', { fn: FeatureFn.RateDeriv, shape: 'windowed' }],
  ['rate_deriv2', { fn: FeatureFn.RateDeriv2, shape: 'windowed' }],
  ['ewma', { fn: FeatureFn.Ewma, shape: 'half-life' }],
  ['age', { fn: FeatureFn.Age, shape: 'metric' }],
]);

/** Function name of a FeatureFn, for canonical text. */
export const FUNCTION_NAMES: ReadonlyMap<FeatureFn, string> = new Map(
  [...FEATURE_FUNCTIONS].map(([name, info]) => [info.fn, name] as [FeatureFn, string]),
);

/** SPEC §1: metric names are 1..64 bytes of [A-Za-z0-9._:-]. */
export const METRIC_NAME_RE = /^[A-Za-z0-9._:-]{1,64}$/;

/** Cap on W/B: each bucket costs memory per device in the kernel's feature arena. */
export const MAX_BUCKETS_PER_WINDOW = 1000;
