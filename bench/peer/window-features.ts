// The peer's feature model: plain TypeScript bucket rings, the way a Node team would keep
// sliding windows. src/reference/features.ts is the oracle (it stores every event and
// recomputes from scratch, so its cost grows without bound and it would measure the
// oracle, not a peer); this keeps the same semantics incrementally for the functions the
// demo rules use, and is checked against the oracle in test/bench-peer.test.ts.
import { NO_METRIC } from '../../assembly/layout.js';
import { FeatureFn, type FeatureSpec, type ProgramSpec } from '../../src/kernel/program-spec.js';

const SUPPORTED = new Set<number>([
  FeatureFn.Last, FeatureFn.Count, FeatureFn.Sum, FeatureFn.Avg, FeatureFn.Min, FeatureFn.Max,
  FeatureFn.Rate, FeatureFn.RateDeriv, FeatureFn.Age,
]);

/** One bucket ring per (metric, W, B): n slots of bucket id, count, sum, min, max. */
interface Ring {
  ids: Float64Array;
  count: Float64Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  /** Earliest bucket seen (rate fits start there). */
  first: number;
}

interface Device {
  clock: number;
  rings: Map<string, Ring>;
  lastTs: Map<number, number>;
  lastValue: Map<number, number>;
  lastWall: Map<number, number>;
}

const ringKey = (f: FeatureSpec): string => `${f.metric}|${f.windowMs}|${f.bucketMs}`;

export class WindowFeatures {
  private readonly devices = new Map<number, Device>();
  /** Per metric: the rings (W, B) its windowed features need. */
  private readonly ringsByMetric = new Map<number, Array<{ key: string; n: number; B: number }>>();

  constructor(private readonly spec: ProgramSpec) {
    for (const f of spec.features) {
      if (!SUPPORTED.has(f.fn)) throw new Error(`peer: ${f.canonical} is not supported by the peer's window model`);
      if (f.windowMs === 0) continue;
      const list = this.ringsByMetric.get(f.metric) ?? [];
      if (!list.some((r) => r.key === ringKey(f))) list.push({ key: ringKey(f), n: f.windowMs / f.bucketMs, B: f.bucketMs });
      this.ringsByMetric.set(f.metric, list);
    }
  }

  apply(slot: number, metric: number, ts: number, value: number, nowMs: number): void {
    if (!(Math.abs(ts) < 1e16) || !Number.isFinite(value)) return;
    let d = this.devices.get(slot);
    if (!d) {
      d = { clock: NaN, rings: new Map(), lastTs: new Map(), lastValue: new Map(), lastWall: new Map() };
      this.devices.set(slot, d);
    }
    d.clock = Number.isNaN(d.clock) ? ts : Math.max(d.clock, ts);
    if (metric === NO_METRIC || metric >= this.spec.metrics.length) return;
    if (!(d.lastTs.get(metric)! > ts)) {
      d.lastTs.set(metric, ts);
      d.lastValue.set(metric, value);
    }
    d.lastWall.set(metric, nowMs);
    for (const r of this.ringsByMetric.get(metric) ?? []) {
      let ring = d.rings.get(r.key);
      if (!ring) {
        ring = {
          ids: new Float64Array(r.n).fill(NaN), count: new Float64Array(r.n), sum: new Float64Array(r.n),
          min: new Float64Array(r.n), max: new Float64Array(r.n), first: Infinity,
        };
        d.rings.set(r.key, ring);
      }
      const b = Math.floor(ts / r.B);
      if (b < Math.floor(d.clock / r.B) - r.n + 1) continue; // late for this window
      // the earliest bucket seen counts only events the window took (as the kernel's RFIT block)
      ring.first = Math.min(ring.first, b);
      const i = ((b % r.n) + r.n) % r.n;
      if (ring.ids[i] !== b) {
        ring.ids[i] = b;
        ring.count[i] = 0;
        ring.sum[i] = 0;
        ring.min[i] = Infinity;
        ring.max[i] = -Infinity;
      }
      ring.count[i]++;
      ring.sum[i] += value;
      if (value < ring.min[i]) ring.min[i] = value;
      if (value > ring.max[i]) ring.max[i] = value;
    }
  }

  value(slot: number, feature: number, nowMs: number): number {
    const f = this.spec.features[feature];
    const d = this.devices.get(slot);
    switch (f.fn) {
      case FeatureFn.Last: return d?.lastValue.get(f.metric) ?? NaN;
      case FeatureFn.Age: {
        const at = d?.lastWall.get(f.metric);
        return at === undefined ? Infinity : (nowMs - at) / 1000;
      }
    }
    const ring = d?.rings.get(ringKey(f));
    const empty = f.fn === FeatureFn.Count || f.fn === FeatureFn.Sum || f.fn === FeatureFn.Rate ? 0 : NaN;
    if (!d || !ring) return empty;
    const B = f.bucketMs;
    const n = f.windowMs / B;
    const hi = Math.floor(d.clock / B);
    const lo = hi - n + 1;
    if (f.fn === FeatureFn.RateDeriv) {
      const from = Math.max(ring.first, lo);
      const m = hi - from;
      if (m < 2) return NaN;
      // an empty window is NaN, like every function but count, sum and rate (SPEC §4.1)
      const cur = ((hi % n) + n) % n;
      let seen = ring.ids[cur] === hi ? ring.count[cur] : 0;
      for (let k = from; k < hi && seen === 0; k++) {
        const i = ((k % n) + n) % n;
        if (ring.ids[i] === k) seen += ring.count[i];
      }
      if (seen === 0) return NaN;
      // least-squares slope of per-bucket rates against bucket start (s), centred for precision
      let sx = 0, sy = 0, sxx = 0, sxy = 0;
      for (let k = from; k < hi; k++) {
        const i = ((k % n) + n) % n;
        const y = ring.ids[i] === k ? ring.count[i] / (B / 1000) : 0;
        const x = ((k - from) * B) / 1000;
        sx += x; sy += y; sxx += x * x; sxy += x * y;
      }
      const den = m * sxx - sx * sx;
      return den === 0 ? NaN : (m * sxy - sx * sy) / den;
    }
    let count = 0, sum = 0, min = Infinity, max = -Infinity;
    for (let i = 0; i < n; i++) {
      const id = ring.ids[i];
      if (!(id >= lo && id <= hi)) continue;
      count += ring.count[i];
      sum += ring.sum[i];
      if (ring.min[i] < min) min = ring.min[i];
      if (ring.max[i] > max) max = ring.max[i];
    }
    switch (f.fn) {
      case FeatureFn.Count: return count;
      case FeatureFn.Rate: return count / (f.windowMs / 1000);
      case FeatureFn.Sum: return sum;
      case FeatureFn.Avg: return count ? sum / count : NaN;
      case FeatureFn.Min: return count ? min : NaN;
      case FeatureFn.Max: return count ? max : NaN;
    }
    return NaN;
  }
}
