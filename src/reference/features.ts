// Reference feature model: the plain TypeScript oracle of SPEC §4.1/§4.2 that the WASM
// kernel is property-tested against. It stores every event and recomputes each value from
// scratch at the device clock; clarity over speed. Decisions where the SPEC is silent are
// the kernel's (docs/kernel.md): delta ties, rate-fit completed buckets, late counting,
// and which state a program switch keeps.
import { NO_METRIC } from '../../assembly/layout.js';
import { FeatureFn, type FeatureSpec, type ProgramSpec } from '../kernel/program-spec.js';
import { centralSums, linearSlope, quadraticCurvature } from './features-fit.js';

interface StoredEvent {
  seq: number;
  ts: number;
  value: number;
  /** Device clock right after the event was applied: decides lateness per feature. */
  tau: number;
  nowMs: number;
}

interface Device {
  clock: number;
  byMetric: Map<number, StoredEvent[]>;
}

const WINDOWED_BLOCK: Partial<Record<FeatureFn, string>> = {
  [FeatureFn.Count]: 'cnt', [FeatureFn.Rate]: 'cnt', [FeatureFn.Sum]: 'sum', [FeatureFn.Avg]: 'sum',
  [FeatureFn.Min]: 'minmax', [FeatureFn.Max]: 'minmax', [FeatureFn.Delta]: 'firstlast', [FeatureFn.Stddev]: 'mom',
  [FeatureFn.Deriv]: 'lsq', [FeatureFn.Deriv2]: 'lsq2', [FeatureFn.RateDeriv]: 'rfit', [FeatureFn.RateDeriv2]: 'rfit',
};

const isWindowed = (f: FeatureSpec): boolean => WINDOWED_BLOCK[f.fn] !== undefined;
/** Identity of the state a feature reads: its accumulator (windowed) or its canonical text. */
const stateKey = (f: FeatureSpec): string =>
  isWindowed(f) ? `${f.metric}|${f.windowMs}|${f.bucketMs}|${WINDOWED_BLOCK[f.fn]}` : `${f.canonical}`;
const bucketOf = (ts: number, bucketMs: number): number => Math.floor(ts / bucketMs);

export class ReferenceFeatures {
  private spec: ProgramSpec;
  private readonly devices = new Map<number, Device>();
  private late = 0;
  private seq = 0;
  /** Per feature: the first event sequence number its state has seen (program switches). */
  private since: number[];

  constructor(spec: ProgramSpec) {
    this.spec = spec;
    this.since = spec.features.map(() => 0);
  }

  /** Updates the device clock and stores the event (metric NO_METRIC: clock only). */
  apply(slot: number, metric: number, ts: number, value: number, nowMs: number): void {
    // same guard as the kernel: beyond ±1e16 ms bucket ids stop being exact integers
    if (!(Math.abs(ts) < 1e16) || !Number.isFinite(value)) return;
    let d = this.devices.get(slot);
    if (!d) {
      d = { clock: NaN, byMetric: new Map() };
      this.devices.set(slot, d);
    }
    d.clock = Number.isNaN(d.clock) ? ts : Math.max(d.clock, ts);
    if (metric === NO_METRIC || metric >= this.spec.metrics.length) return;
    const ev: StoredEvent = { seq: this.seq++, ts, value, tau: d.clock, nowMs };
    let list = d.byMetric.get(metric);
    if (!list) d.byMetric.set(metric, (list = []));
    list.push(ev);
    if (this.spec.features.some((f) => f.metric === metric && isWindowed(f) && this.isLate(ev, f))) this.late++;
  }

  /** The feature recomputed over the stored events at the device clock (age at nowMs). */
  value(slot: number, feature: number, nowMs: number): number {
    const f = this.spec.features[feature];
    if (!f) return NaN;
    const d = this.devices.get(slot);
    const events = (d?.byMetric.get(f.metric) ?? []).filter((e) => e.seq >= this.since[feature]);
    if (!isWindowed(f)) return this.scalar(f, events, nowMs);
    const clock = d ? d.clock : NaN;
    if (Number.isNaN(clock)) return f.fn === FeatureFn.Count || f.fn === FeatureFn.Sum || f.fn === FeatureFn.Rate ? 0 : NaN;
    return this.windowed(f, events.filter((e) => !this.isLate(e, f)), clock);
  }

  clock(slot: number): number {
    return this.devices.get(slot)?.clock ?? NaN;
  }

  lateEvents(): number {
    return this.late;
  }

  remove(slot: number): void {
    this.devices.delete(slot);
  }

  /**
   * Switches to another program the way the kernel does: a feature keeps its history when
   * its state (windowed: the accumulator of its (metric, W, B) group; others: its canonical
   * text) existed in the old program; otherwise it sees only events from now on.
   */
  switchProgram(spec: ProgramSpec): void {
    const kept = new Map<string, number>();
    this.spec.features.forEach((f, i) => kept.set(stateKey(f), this.since[i]));
    this.spec = spec;
    this.since = spec.features.map((f) => kept.get(stateKey(f)) ?? this.seq);
  }

  private isLate(e: StoredEvent, f: FeatureSpec): boolean {
    return bucketOf(e.ts, f.bucketMs) < bucketOf(e.tau, f.bucketMs) - f.windowMs / f.bucketMs + 1;
  }

  private scalar(f: FeatureSpec, events: StoredEvent[], nowMs: number): number {
    if (f.fn === FeatureFn.Age) return events.length ? (nowMs - events[events.length - 1].nowMs) / 1000 : Infinity;
    if (events.length === 0) return NaN;
    if (f.fn === FeatureFn.Last) {
      let best = events[0];
      for (const e of events) if (e.ts >= best.ts) best = e;
      return best.value;
    }
    if (f.fn === FeatureFn.Ewma) {
      let s = events[0].value;
      let top = events[0].ts;
      for (const e of events.slice(1)) {
        const dt = Math.max(0, e.ts - top);
        // 1 − 2^(−Δt/H), in the form that stays exact for small Δt (same as the kernel)
        s += -Math.expm1((-dt / f.halfLifeMs) * Math.LN2) * (e.value - s);
        top = Math.max(top, e.ts);
      }
      return s;
    }
    return NaN;
  }

  private windowed(f: FeatureSpec, events: StoredEvent[], clock: number): number {
    const B = f.bucketMs;
    const nb = f.windowMs / B;
    const hi = bucketOf(clock, B);
    const lo = hi - nb + 1;
    const win = events.filter((e) => bucketOf(e.ts, B) >= lo && bucketOf(e.ts, B) <= hi);
    const vals = win.map((e) => e.value);
    const n = win.length;
    switch (f.fn) {
      case FeatureFn.Count: return n;
      case FeatureFn.Rate: return n / (f.windowMs / 1000);
      case FeatureFn.Sum: return vals.reduce((a, b) => a + b, 0);
      case FeatureFn.Avg: return n ? vals.reduce((a, b) => a + b, 0) / n : NaN;
      case FeatureFn.Min: return n ? Math.min(...vals) : NaN;
      case FeatureFn.Max: return n ? Math.max(...vals) : NaN;
      case FeatureFn.Stddev: {
        if (n < 2) return NaN;
        const mean = vals.reduce((a, b) => a + b, 0) / n;
        return Math.sqrt(vals.reduce((a, v) => a + (v - mean) * (v - mean), 0) / (n - 1));
      }
      case FeatureFn.Delta: {
        if (n === 0) return NaN;
        let first = win[0];
        let last = win[0];
        for (const e of win) {
          if (e.ts < first.ts) first = e; // ties: the first arrival stays earliest
          if (e.ts >= last.ts) last = e; // ties: the latest arrival is latest
        }
        return last.value - first.value;
      }
      case FeatureFn.Deriv:
      case FeatureFn.Deriv2: {
        const distinct = new Set(win.map((e) => e.ts)).size;
        if (distinct < (f.fn === FeatureFn.Deriv ? 2 : 3)) return NaN;
        // seconds from the window start: epoch seconds squared would lose all precision
        const s = centralSums(win.map((e) => (e.ts - lo * B) / 1000), vals);
        return f.fn === FeatureFn.Deriv ? linearSlope(s) : quadraticCurvature(s);
      }
      case FeatureFn.RateDeriv:
      case FeatureFn.RateDeriv2: {
        if (win.length === 0) return NaN; // empty window: NaN like every function but count, sum, rate
        // completed buckets of the window, from the earliest bucket this feature has seen
        const first = Math.min(...events.map((e) => bucketOf(e.ts, B)));
        const from = Math.max(first, lo);
        const m = hi - from;
        if (m < (f.fn === FeatureFn.RateDeriv ? 2 : 3)) return NaN;
        const xs: number[] = [];
        const ys: number[] = [];
        for (let k = from; k < hi; k++) {
          xs.push(((k - from) * B) / 1000);
          ys.push(win.filter((e) => bucketOf(e.ts, B) === k).length / (B / 1000));
        }
        const s = centralSums(xs, ys);
        return f.fn === FeatureFn.RateDeriv ? linearSlope(s) : quadraticCurvature(s);
      }
      default: return NaN;
    }
  }
}
