// TypeScript port of the WASM kernel's bucket algorithm, used only as the benchmark
// baseline (bench/kernel.ts): same program binary, same device-block layout, same
// per-event work, in typed arrays over one ArrayBuffer. Not used by the engine.
// Simplifications that only favour the port: a flat device table (slot · stride, no pages),
// the plan decoded once into JS arrays, no rule evaluation.
import * as L from '../../assembly/layout.js';
import { FeatureFn } from './program-spec.js';

interface PortGroup { nb: number; bucketMs: number; invB: number; invNb: number; mask: number; rec: number; off: number; cacheOff: number; blk: number[] }

/** floor(x / d) from 1/d with one correction step (as the kernel's floorDiv). */
function floorDiv(x: number, d: number, inv: number): number {
  let q = Math.floor(x * inv);
  while (q * d > x) q -= 1;
  while ((q + 1) * d <= x) q += 1;
  return q;
}
interface PortScalar { fn: number; off: number; halfLifeMs: number }

// Bucket ids are stored as f64 id + 0.5 so that zeroed memory (0) matches no bucket: the
// port's equivalent of the kernel's tagged i64 ids, without BigInt on the hot path.
const TAG = 0.5;

export class TsPortKernel {
  private buf: ArrayBuffer;
  private f64: Float64Array;
  private u32: Uint32Array;
  private readonly stride: number; // bytes, multiple of 8
  private readonly groupsByMetric: PortGroup[][] = [];
  private readonly scalarsByMetric: PortScalar[][] = [];
  private readonly features: Array<{ fn: number; group: PortGroup | null; scalar: PortScalar | null }> = [];
  private devices = 0;
  eventsApplied = 0;
  lateEvents = 0;

  /** `program`: bytes from encodeProgram. */
  constructor(program: Uint8Array, initialDevices = 1024) {
    const p = new DataView(program.buffer, program.byteOffset, program.byteLength);
    const plan = p.getUint32(L.P_PLAN_OFF, true);
    const u = (off: number): number => p.getUint32(plan + off, true);
    const nMetrics = u(L.PL_N_METRICS);
    const groups: PortGroup[] = [];
    for (let g = 0; g < u(L.PL_N_GROUPS); g++) {
      const at = plan + u(L.PL_GROUPS_OFF) + g * L.PG_BYTES;
      const blk: number[] = [];
      for (let b = 0; b < L.BLOCK_COUNT; b++) blk.push(program[at + L.PG_BLOCK_OFF + b]);
      groups.push({
        nb: p.getUint32(at + L.PG_NB, true), bucketMs: p.getFloat64(at + L.PG_BUCKET_MS, true), mask: p.getUint32(at + L.PG_MASK, true),
        invB: p.getFloat64(at + L.PG_INV_BUCKET_MS, true), invNb: p.getFloat64(at + L.PG_INV_NB, true),
        rec: p.getUint32(at + L.PG_REC_BYTES, true), off: p.getUint32(at + L.PG_STATE_OFF, true), cacheOff: p.getUint32(at + L.PG_CACHE_OFF, true), blk,
      });
    }
    for (let m = 0; m < nMetrics; m++) {
      const at = plan + u(L.PL_METRICS_OFF) + m * L.PM_BYTES;
      const g0 = p.getUint32(at + L.PM_FIRST_GROUP, true);
      this.groupsByMetric.push(groups.slice(g0, g0 + p.getUint32(at + L.PM_N_GROUPS, true)));
      this.scalarsByMetric.push([]);
    }
    for (let f = 0; f < u(L.PL_N_FEATURES); f++) {
      const at = plan + u(L.PL_FEATURES_OFF) + f * L.PF_BYTES;
      const fn = p.getUint32(at + L.PF_FN, true);
      const gi = p.getUint32(at + L.PF_GROUP, true);
      if (gi !== L.NO_PREV) {
        this.features.push({ fn, group: groups[gi], scalar: null });
      } else {
        const s: PortScalar = { fn, off: p.getUint32(at + L.PF_STATE_OFF, true), halfLifeMs: p.getFloat64(at + L.PF_HALF_LIFE, true) };
        this.scalarsByMetric[p.getUint32(at + L.PF_METRIC, true)].push(s);
        this.features.push({ fn, group: null, scalar: s });
      }
    }
    this.stride = (u(L.PL_STATE_END) + 7) & ~7;
    this.buf = new ArrayBuffer(this.stride * initialDevices);
    this.f64 = new Float64Array(this.buf);
    this.u32 = new Uint32Array(this.buf);
    this.devices = initialDevices;
  }

  /** Bytes of feature state per device. */
  get bytesPerDevice(): number {
    return this.stride;
  }

  private grow(slot: number): void {
    let n = this.devices;
    while (n <= slot) n *= 2;
    const next = new ArrayBuffer(this.stride * n);
    new Uint8Array(next).set(new Uint8Array(this.buf));
    this.buf = next;
    this.f64 = new Float64Array(next);
    this.u32 = new Uint32Array(next);
    this.devices = n;
  }

  /** Applies events [from, to) of `batch`, BATCH_EVENT_BYTES records as the worker writes them. */
  applyBatch(batch: ArrayBuffer, from: number, to: number, nowMs: number): void {
    const bu = new Uint32Array(batch, 0, to * 6);
    const bf = new Float64Array(batch, 0, to * 3);
    for (let i = from; i < to; i++) {
      const slot = bu[i * 6];
      const metric = bu[i * 6 + 1];
      const ts = bf[i * 3 + 1];
      const v = bf[i * 3 + 2];
      if (!(Math.abs(ts) < 1e16) || !Number.isFinite(v)) continue;
      if (slot >= this.devices) this.grow(slot);
      const d = slot * this.stride;
      const flags = this.u32[(d + L.D_FLAGS) >> 2];
      let tau = this.f64[(d + L.D_TAU) >> 3];
      if ((flags & L.DF_CLOCK) === 0) {
        this.u32[(d + L.D_FLAGS) >> 2] = flags | L.DF_CLOCK | L.DF_EXISTS;
        tau = ts;
      } else if (ts > tau) tau = ts;
      this.f64[(d + L.D_TAU) >> 3] = tau;
      if (metric < this.groupsByMetric.length) {
        const gs = this.groupsByMetric[metric];
        let late = false;
        for (let g = 0; g < gs.length; g++) if (this.updateGroup(gs[g], d, ts, v, tau)) late = true;
        if (late) this.lateEvents++;
        const ss = this.scalarsByMetric[metric];
        for (let s = 0; s < ss.length; s++) this.updateScalar(ss[s], d, ts, v, nowMs);
      }
      this.eventsApplied++;
    }
  }

  private updateGroup(g: PortGroup, d: number, ts: number, v: number, tau: number): boolean {
    const id = floorDiv(ts, g.bucketMs, g.invB);
    if (ts < tau && id < floorDiv(tau, g.bucketMs, g.invB) - g.nb + 1) return true;
    const base = d + g.off;
    const r = id - floorDiv(id, g.nb, g.invNb) * g.nb;
    const rec = base + L.GROUP_HEADER_BYTES + r * g.rec;
    const f = this.f64;
    if (f[rec >> 3] !== id + TAG) this.resetRecord(g, rec, id);
    const t = (ts - id * g.bucketMs) * 0.001;
    this.addBlocks(g, rec, ts, t, v);
    if (g.mask & (1 << L.BLK_RFIT)) {
      const first = base >> 3;
      if (f[first] === 0 || id + TAG < f[first]) f[first] = id + TAG;
    }
    // the kernel's window cache (assembly/kernel/window-cache.ts), kept current while τ stays
    // in its bucket: the port has no rule queries to fill it, but pays the same check
    const cache = d + g.cacheOff;
    const key = f[cache >> 3];
    if (key !== 0) {
      const hi = floorDiv(tau, g.bucketMs, g.invB);
      if (key === hi + TAG) this.addBlocks(g, cache, ts, ((id - hi + g.nb - 1) * g.bucketMs) / 1000 + t, v);
    }
    return false;
  }

  private addBlocks(g: PortGroup, rec: number, ts: number, t: number, v: number): void {
    const f = this.f64;
    const mask = g.mask;
    const b = g.blk;
    if (mask & (1 << L.BLK_CNT)) f[(rec + b[L.BLK_CNT]) >> 3] += 1;
    if (mask & (1 << L.BLK_SUM)) { const p = (rec + b[L.BLK_SUM]) >> 3; f[p] += 1; f[p + 1] += v; }
    if (mask & (1 << L.BLK_MINMAX)) { const p = (rec + b[L.BLK_MINMAX]) >> 3; if (v < f[p]) f[p] = v; if (v > f[p + 1]) f[p + 1] = v; }
    if (mask & (1 << L.BLK_FIRSTLAST)) {
      const p = (rec + b[L.BLK_FIRSTLAST]) >> 3;
      if (ts < f[p]) { f[p] = ts; f[p + 1] = v; }
      if (ts >= f[p + 2]) { f[p + 2] = ts; f[p + 3] = v; }
    }
    if (mask & (1 << L.BLK_MOM)) {
      const p = (rec + b[L.BLK_MOM]) >> 3;
      const n = f[p] + 1; const dlt = v - f[p + 1]; const m = f[p + 1] + dlt / n;
      f[p] = n; f[p + 1] = m; f[p + 2] += dlt * (v - m);
    }
    if (mask & (1 << L.BLK_LSQ)) {
      const p = (rec + b[L.BLK_LSQ]) >> 3;
      const n0 = f[p]; const n = n0 + 1; const dt = t - f[p + 1]; const dv = v - f[p + 2];
      const inv = 1 / n;
      f[p] = n; f[p + 1] += dt * inv; f[p + 2] += dv * inv;
      const w = n0 * inv; f[p + 3] += dt * dt * w; f[p + 4] += dt * dv * w;
    }
    if (mask & (1 << L.BLK_LSQ2)) this.addLsq2((rec + b[L.BLK_LSQ2]) >> 3, ts, t, v);
    if (mask & (1 << L.BLK_RFIT)) f[(rec + b[L.BLK_RFIT]) >> 3] += 1;
  }

  private resetRecord(g: PortGroup, rec: number, id: number): void {
    const f = this.f64;
    for (let i = (rec >> 3) + 1, end = (rec + g.rec) >> 3; i < end; i++) f[i] = 0; // small: a loop beats fill()
    f[rec >> 3] = id + TAG;
    if (g.mask & (1 << L.BLK_MINMAX)) { const p = (rec + g.blk[L.BLK_MINMAX]) >> 3; f[p] = Infinity; f[p + 1] = -Infinity; }
    if (g.mask & (1 << L.BLK_FIRSTLAST)) { const p = (rec + g.blk[L.BLK_FIRSTLAST]) >> 3; f[p] = Infinity; f[p + 2] = -Infinity; }
  }

  private addLsq2(p: number, ts: number, t: number, v: number): void {
    const f = this.f64;
    const n0 = f[p]; const n = n0 + 1; const dt = t - f[p + 1]; const dv = v - f[p + 2];
    const s2 = f[p + 3], c11 = f[p + 4], s3 = f[p + 5], s4 = f[p + 6], c21 = f[p + 7];
    const inv = 1 / n;
    const aa = -dt * inv, ab = -dv * inv, ba = dt * n0 * inv, bb = dv * n0 * inv, aa2 = aa * aa, ba2 = ba * ba;
    f[p] = n; f[p + 1] -= aa; f[p + 2] -= ab;
    f[p + 3] = s2 + aa2 * n0 + ba2;
    f[p + 4] = c11 + aa * ab * n0 + ba * bb;
    f[p + 5] = s3 + 3 * aa * s2 + aa2 * aa * n0 + ba2 * ba;
    f[p + 6] = s4 + 4 * aa * s3 + 6 * aa2 * s2 + aa2 * aa2 * n0 + ba2 * ba2;
    f[p + 7] = c21 + ab * s2 + 2 * aa * c11 + aa2 * ab * n0 + ba2 * bb;
    if (n0 === 0) { f[p + 8] = ts; f[p + 9] = ts; return; }
    const lo = f[p + 8], hi = f[p + 9];
    if (ts < lo) { if (lo < hi) f[p + 10] = 1; f[p + 8] = ts; } else if (ts > hi) { if (lo < hi) f[p + 10] = 1; f[p + 9] = ts; } else if (ts > lo && ts < hi) f[p + 10] = 1;
  }

  private updateScalar(s: PortScalar, d: number, ts: number, v: number, nowMs: number): void {
    const p = d + s.off;
    const has = this.u32[p >> 2] !== 0;
    const f = this.f64;
    const q = (p + 8) >> 3;
    if (s.fn === FeatureFn.Last) {
      if (!has || ts >= f[q]) { this.u32[p >> 2] = 1; f[q] = ts; f[q + 1] = v; }
    } else if (s.fn === FeatureFn.Ewma) {
      if (!has) { this.u32[p >> 2] = 1; f[q] = v; f[q + 1] = ts; return; }
      const top = f[q + 1];
      const dt = ts > top ? ts - top : 0;
      f[q] -= Math.expm1((-dt / s.halfLifeMs) * Math.LN2) * (v - f[q]);
      if (ts > top) f[q + 1] = ts;
    } else if (s.fn === FeatureFn.Age) {
      this.u32[p >> 2] = 1; f[q] = nowMs;
    }
  }

  /** Window sums for count/sum/avg/min/max/rate (enough to check the port against the kernel). */
  featureValue(slot: number, feature: number): number {
    const ft = this.features[feature];
    if (!ft || slot >= this.devices) return NaN;
    const d = slot * this.stride;
    if ((this.u32[(d + L.D_FLAGS) >> 2] & L.DF_CLOCK) === 0 || !ft.group) return NaN;
    const g = ft.group;
    const f = this.f64;
    const hi = Math.floor(f[(d + L.D_TAU) >> 3] / g.bucketMs);
    let n = 0, s = 0, mn = Infinity, mx = -Infinity;
    for (let k = hi - g.nb + 1; k <= hi; k++) {
      let r = k % g.nb;
      if (r < 0) r += g.nb;
      const rec = d + g.off + L.GROUP_HEADER_BYTES + r * g.rec;
      if (f[rec >> 3] !== k + TAG) continue;
      if (ft.fn === FeatureFn.Count || ft.fn === FeatureFn.Rate) n += f[(rec + g.blk[L.BLK_CNT]) >> 3];
      if (ft.fn === FeatureFn.Sum || ft.fn === FeatureFn.Avg) { n += f[(rec + g.blk[L.BLK_SUM]) >> 3]; s += f[((rec + g.blk[L.BLK_SUM]) >> 3) + 1]; }
      if (ft.fn === FeatureFn.Min || ft.fn === FeatureFn.Max) { const p = (rec + g.blk[L.BLK_MINMAX]) >> 3; mn = Math.min(mn, f[p]); mx = Math.max(mx, f[p + 1]); }
    }
    switch (ft.fn) {
      case FeatureFn.Count: return n;
      case FeatureFn.Rate: return n / ((g.nb * g.bucketMs) / 1000);
      case FeatureFn.Sum: return s;
      case FeatureFn.Avg: return s / n;
      case FeatureFn.Min: return mn === Infinity ? NaN : mn;
      case FeatureFn.Max: return mx === -Infinity ? NaN : mx;
      default: return NaN;
    }
  }
}
