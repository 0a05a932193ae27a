// Feature plan section of the program binary (format: PL_*/PG_*/PF_* in assembly/layout.ts,
// prose in docs/kernel.md). Windowed features sharing (metric, W, B) share one bucket ring
// (a group); each group carries only the accumulator blocks its features need.
import * as L from '../../assembly/layout.js';
import { DamperError } from '../errors.js';
import { FeatureFn, type FeatureSpec, type ProgramSpec } from './program-spec.js';
import { ruleStateBytes } from './encode-rules.js';

export const BLOCK_BYTES = [8, 16, 16, 32, 24, 40, 88, 8] as const;
const ERR_PLAN = 'DAMPER_ERR_PLAN';
/** After a group's window cache record: the f64 drift bound of its sum and the u64 occupied-slot bits (window-cache.ts). */
const CACHE_TRAILER_BYTES = 16;
/** Blocks a value FIFO can stand in for (a bucket of one value v: count 1, n 1, sum 0 + v, min = max = v). */
const FIFO_BLOCKS = (1 << L.BLK_CNT) | (1 << L.BLK_SUM) | (1 << L.BLK_MINMAX);
const FIFO_VALUE_BLOCKS = (1 << L.BLK_SUM) | (1 << L.BLK_MINMAX);

/** Accumulator block a windowed function reads; -1 for last, ewma and age. */
export function blockOf(fn: FeatureFn): number {
  switch (fn) {
    case FeatureFn.Count: case FeatureFn.Rate: return L.BLK_CNT;
    case FeatureFn.Sum: case FeatureFn.Avg: return L.BLK_SUM;
    case FeatureFn.Min: case FeatureFn.Max: return L.BLK_MINMAX;
    case FeatureFn.Delta: return L.BLK_FIRSTLAST;
    case FeatureFn.Stddev: return L.BLK_MOM;
    case FeatureFn.Deriv: return L.BLK_LSQ;
    case FeatureFn.Deriv2: return L.BLK_LSQ2;
    case FeatureFn.RateDeriv: case FeatureFn.RateDeriv2: return L.BLK_RFIT;
    default: return -1;
  }
}

export function scalarStateBytes(fn: FeatureFn): number {
  if (fn === FeatureFn.Last) return L.LAST_STATE_BYTES;
  if (fn === FeatureFn.Ewma) return L.EWMA_STATE_BYTES;
  if (fn === FeatureFn.Age) return L.AGE_STATE_BYTES;
  throw new DamperError(ERR_PLAN, `feature fn ${fn} is windowed`);
}

export interface PlanGroup {
  key: string;
  metric: number;
  windowMs: number;
  bucketMs: number;
  nb: number;
  mask: number;
  blockOff: number[];
  recBytes: number;
  stateOff: number;
  /** Offset of the group's window cache record (recBytes, then a 16-byte trailer and, GF_FIFO, the value FIFO) in the device block. */
  cacheOff: number;
  /** GF_* (window cache: can it slide, which extremes the program reads). */
  flags: number;
  stateBytes: number;
}

/** Device layout of a program's features: what encodePlan writes and migration matches against. */
export interface PlanLayout {
  groups: PlanGroup[];
  /** Per feature: group index, or -1 for last/ewma/age. */
  featureGroup: number[];
  /** Per feature: state offset in the device block for last/ewma/age, else -1. */
  featureStateOff: number[];
  /** Per metric id: indices of last/ewma/age features. */
  scalarsByMetric: number[][];
  stateEnd: number;
  /** Device-block offset and size reserved for the rule state (right after the header). */
  ruleOff: number;
  ruleBytes: number;
  hash: number;
}

export function groupKey(f: FeatureSpec): string {
  return `${f.metric}|${f.windowMs}|${f.bucketMs}`;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) || 1;
}

function checkFeature(f: FeatureSpec, i: number, nMetrics: number): void {
  if (!(Number.isInteger(f.metric) && f.metric >= 0 && f.metric < nMetrics)) throw new DamperError(ERR_PLAN, `feature ${i}: metric ${f.metric} out of range`);
  if (blockOf(f.fn) < 0) {
    if (f.fn === FeatureFn.Ewma && !(f.halfLifeMs > 0)) throw new DamperError(ERR_PLAN, `feature ${i}: ewma half-life must be > 0`);
    if (f.fn !== FeatureFn.Last && f.fn !== FeatureFn.Ewma && f.fn !== FeatureFn.Age) throw new DamperError(ERR_PLAN, `feature ${i}: unknown fn ${f.fn}`);
    return;
  }
  const nb = f.windowMs / f.bucketMs;
  if (!(f.bucketMs > 0 && Number.isInteger(nb) && nb >= 1 && nb <= 1 << 20)) {
    throw new DamperError(ERR_PLAN, `feature ${i} (${f.canonical}): bucket ${f.bucketMs} ms must divide window ${f.windowMs} ms`);
  }
}

/** Computes the device layout of a program's features. */
export function planLayout(spec: ProgramSpec): PlanLayout {
  const nMetrics = spec.metrics.length;
  spec.features.forEach((f, i) => checkFeature(f, i, nMetrics));
  const byKey = new Map<string, { metric: number; windowMs: number; bucketMs: number; mask: number; first: number; reads: number }>();
  spec.features.forEach((f, i) => {
    const b = blockOf(f.fn);
    if (b < 0) return;
    const key = groupKey(f);
    const g = byKey.get(key) ?? { metric: f.metric, windowMs: f.windowMs, bucketMs: f.bucketMs, mask: 0, first: i, reads: 0 };
    g.mask |= 1 << b;
    if (f.fn === FeatureFn.Min) g.reads |= L.GF_READS_MIN;
    if (f.fn === FeatureFn.Max) g.reads |= L.GF_READS_MAX;
    byKey.set(key, g);
  });
  // sorted by metric so the kernel finds a metric's groups as one contiguous range
  const keys = [...byKey.keys()].sort((a, b) => byKey.get(a)!.metric - byKey.get(b)!.metric || byKey.get(a)!.first - byKey.get(b)!.first);
  // What every evaluation reads sits next to the device header, in the hot prefix the apply
  // loop touches ahead (assembly/kernel/touch.ts): the groups' window caches
  // (assembly/kernel/window-cache.ts), the scalar features, the rule state; the bucket rings
  // follow.
  // groups a rule reads keep a value FIFO after their cache trailer (window-cache.ts) when
  // their blocks allow it: a bucket of one event is then taken out of a sliding window from
  // the FIFO, in the hot prefix, instead of from its ring record, written minutes earlier
  const ruleRead = new Set<string>();
  for (const r of spec.rules) for (const x of r.reads) if (x.kind === 'feature' && blockOf(spec.features[x.index].fn) >= 0) ruleRead.add(groupKey(spec.features[x.index]));
  let off = L.DEVICE_HEADER_BYTES;
  const groups: PlanGroup[] = keys.map((key) => {
    const g = byKey.get(key)!;
    const blockOff: number[] = [];
    let rec = L.REC_ID_BYTES;
    for (let b = 0; b < L.BLOCK_COUNT; b++) {
      blockOff.push((g.mask & (1 << b)) !== 0 ? rec : 0);
      if ((g.mask & (1 << b)) !== 0) rec += BLOCK_BYTES[b];
    }
    const nb = g.windowMs / g.bucketMs;
    // moments and fits cannot take a bucket back out of a merge, and the occupied-slot bits
    // cover 64 buckets: such a cache is refilled instead
    const slides = (g.mask & ((1 << L.BLK_MOM) | (1 << L.BLK_LSQ) | (1 << L.BLK_LSQ2))) === 0 && nb <= 64 ? L.GF_SLIDES : 0;
    const fifo = slides !== 0 && ruleRead.has(key) && (g.mask & ~FIFO_BLOCKS) === 0 && (g.mask & FIFO_VALUE_BLOCKS) !== 0 ? L.GF_FIFO : 0;
    const pg: PlanGroup = {
      key, metric: g.metric, windowMs: g.windowMs, bucketMs: g.bucketMs, nb, mask: g.mask, blockOff, recBytes: rec,
      cacheOff: off, flags: slides | fifo | g.reads, stateOff: 0, stateBytes: L.GROUP_HEADER_BYTES + nb * rec,
    };
    off += rec + CACHE_TRAILER_BYTES + (fifo ? L.FIFO_BYTES : 0);
    return pg;
  });
  const groupIndex = new Map(groups.map((g, i) => [g.key, i]));
  const featureGroup = spec.features.map((f) => (blockOf(f.fn) < 0 ? -1 : groupIndex.get(groupKey(f))!));
  const featureStateOff = spec.features.map((f) => {
    if (blockOf(f.fn) >= 0) return -1;
    const at = off;
    off += scalarStateBytes(f.fn);
    return at;
  });
  // the rule state last: its words are read by every evaluation, its times (pending-since,
  // last fire) only by a transition, so they may spill into the next cache line
  const ruleOff = off;
  const ruleBytes = ruleStateBytes(spec.rules);
  off += ruleBytes;
  for (const g of groups) {
    g.stateOff = off;
    off += g.stateBytes;
  }
  const scalarsByMetric: number[][] = spec.metrics.map(() => []);
  spec.features.forEach((f, i) => { if (blockOf(f.fn) < 0) scalarsByMetric[f.metric].push(i); });
  const desc = JSON.stringify([groups.map((g) => [g.key, g.mask, g.stateOff, g.cacheOff, g.flags]), spec.features.map((f, i) => [f.canonical, featureStateOff[i]]), off]);
  return { groups, featureGroup, featureStateOff, scalarsByMetric, stateEnd: off, ruleOff, ruleBytes, hash: fnv1a(desc) };
}

/** Encodes the plan section; `prev` is the program the shards run when this one is switched in. */
export function encodePlan(spec: ProgramSpec, prev: ProgramSpec | null): Uint8Array {
  const lay = planLayout(spec);
  const old = prev ? planLayout(prev) : null;
  const oldGroups = new Map(old?.groups.map((g) => [g.key, g]) ?? []);
  const oldScalar = new Map<string, number>();
  prev?.features.forEach((f, i) => { if (old!.featureStateOff[i] >= 0) oldScalar.set(f.canonical, old!.featureStateOff[i]); });

  const nMetrics = spec.metrics.length;
  const nScalars = lay.scalarsByMetric.reduce((n, s) => n + s.length, 0);
  const metricsOff = L.PLAN_HEADER_BYTES;
  const groupsOff = metricsOff + nMetrics * L.PM_BYTES;
  const featuresOff = groupsOff + lay.groups.length * L.PG_BYTES;
  const scalarsOff = featuresOff + spec.features.length * L.PF_BYTES;
  const total = (scalarsOff + nScalars * 4 + 7) & ~7;
  const buf = new ArrayBuffer(total);
  const v = new DataView(buf);
  const u8 = new Uint8Array(buf);
  const u32 = (at: number, x: number): void => v.setUint32(at, x >>> 0, true);

  u32(L.PL_N_METRICS, nMetrics);
  u32(L.PL_N_GROUPS, lay.groups.length);
  u32(L.PL_N_FEATURES, spec.features.length);
  u32(L.PL_STATE_END, lay.stateEnd);
  u32(L.PL_RULE_OFF, lay.ruleOff);
  u32(L.PL_RULE_BYTES, lay.ruleBytes);
  u32(L.PL_LAYOUT_HASH, lay.hash);
  u32(L.PL_PREV_HASH, old ? old.hash : 0);
  u32(L.PL_METRICS_OFF, metricsOff);
  u32(L.PL_GROUPS_OFF, groupsOff);
  u32(L.PL_FEATURES_OFF, featuresOff);
  u32(L.PL_SCALARS_OFF, scalarsOff);

  let scalarAt = 0;
  for (let m = 0; m < nMetrics; m++) {
    const at = metricsOff + m * L.PM_BYTES;
    const gs = lay.groups.map((g, i) => [g, i] as const).filter(([g]) => g.metric === m);
    u32(at + L.PM_FIRST_GROUP, gs.length ? gs[0][1] : 0);
    u32(at + L.PM_N_GROUPS, gs.length);
    u32(at + L.PM_FIRST_SCALAR, scalarAt);
    u32(at + L.PM_N_SCALARS, lay.scalarsByMetric[m].length);
    for (const f of lay.scalarsByMetric[m]) u32(scalarsOff + 4 * scalarAt++, f);
  }
  lay.groups.forEach((g, i) => {
    const at = groupsOff + i * L.PG_BYTES;
    const p = oldGroups.get(g.key);
    u32(at + L.PG_METRIC, g.metric);
    u32(at + L.PG_NB, g.nb);
    v.setFloat64(at + L.PG_BUCKET_MS, g.bucketMs, true);
    v.setFloat64(at + L.PG_INV_BUCKET_MS, 1 / g.bucketMs, true);
    v.setFloat64(at + L.PG_INV_NB, 1 / g.nb, true);
    v.setFloat64(at + L.PG_WINDOW_SEC, g.windowMs / 1000, true);
    u32(at + L.PG_MASK, g.mask);
    u32(at + L.PG_REC_BYTES, g.recBytes);
    u32(at + L.PG_STATE_OFF, g.stateOff);
    u32(at + L.PG_CACHE_OFF, g.cacheOff);
    u32(at + L.PG_FLAGS, g.flags);
    u32(at + L.PG_PREV_OFF, p ? p.stateOff : L.NO_PREV);
    u32(at + L.PG_PREV_MASK, p ? p.mask : 0);
    u32(at + L.PG_PREV_REC_BYTES, p ? p.recBytes : 0);
    for (let b = 0; b < L.BLOCK_COUNT; b++) {
      u8[at + L.PG_BLOCK_OFF + b] = g.blockOff[b];
      u8[at + L.PG_PREV_BLOCK_OFF + b] = p ? p.blockOff[b] : 0;
    }
  });
  spec.features.forEach((f, i) => {
    const at = featuresOff + i * L.PF_BYTES;
    u32(at + L.PF_FN, f.fn);
    u32(at + L.PF_GROUP, lay.featureGroup[i] < 0 ? L.NO_PREV : lay.featureGroup[i]);
    const so = lay.featureStateOff[i];
    u32(at + L.PF_STATE_OFF, so < 0 ? 0 : so);
    u32(at + L.PF_PREV_OFF, so >= 0 && oldScalar.has(f.canonical) ? oldScalar.get(f.canonical)! : L.NO_PREV);
    v.setFloat64(at + L.PF_HALF_LIFE, f.halfLifeMs, true);
    u32(at + L.PF_METRIC, f.metric);
  });
  return u8;
}
