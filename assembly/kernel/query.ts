// Feature values over a group's window at the device clock τ: buckets floor(τ/B) − nb + 1 …
// floor(τ/B), by a scan that writes nothing (featureValue, any thread; rule queries go
// through window-cache.ts). Moments are merged bucket by bucket with shift formulas (Chan/Pébay), with
// time measured in seconds from the window start so no epoch-sized numbers are squared.
import { PG_NB, PG_BUCKET_MS, PG_BLOCK_OFF, PG_REC_BYTES, BLK_CNT, BLK_SUM, BLK_MINMAX, BLK_FIRSTLAST, BLK_MOM, BLK_LSQ, BLK_LSQ2, BLK_RFIT, PG_STATE_OFF, PG_WINDOW_SEC } from '../layout';
import { FN_COUNT, FN_SUM, FN_AVG, FN_MIN, FN_MAX, FN_STDDEV, FN_DELTA, FN_RATE, FN_DERIV, FN_DERIV2, FN_RATE_DERIV, FN_RATE_DERIV2 } from './fns';
import { ID_TAG, bucketOf, recordIn, ringOf, ringSlot } from './groups';

@inline
function blockOff(g: usize, b: i32): usize {
  return <usize>load<u8>(g + PG_BLOCK_OFF + b);
}

export function windowValue(fn: u32, g: usize, d: usize, tau: f64): f64 {
  const nb = <i64>load<u32>(g + PG_NB);
  const bucketMs = load<f64>(g + PG_BUCKET_MS);
  const hi = bucketOf(tau, bucketMs);
  const lo = hi - nb + 1;
  const ring = ringOf(g, d);
  const rb = <usize>load<u32>(g + PG_REC_BYTES);
  const nbr = <i64>load<u32>(g + PG_NB);
  const s0 = ringSlot(lo, nbr);
  if (fn == FN_RATE_DERIV || fn == FN_RATE_DERIV2) return rateFit(fn == FN_RATE_DERIV ? 1 : 2, g, d, lo, hi, bucketMs);
  if (fn == FN_COUNT || fn == FN_RATE) {
    const o = blockOff(g, BLK_CNT);
    let c: f64 = 0;
    for (let k = lo; k <= hi; k++) {
      const r = recordIn(ring, rb, nbr, s0, lo, k);
      if (r != 0) c += load<f64>(r + o);
    }
    return fn == FN_COUNT ? c : c / load<f64>(g + PG_WINDOW_SEC);
  }
  if (fn == FN_SUM || fn == FN_AVG) {
    const o = blockOff(g, BLK_SUM);
    let n: f64 = 0, s: f64 = 0;
    for (let k = lo; k <= hi; k++) {
      const r = recordIn(ring, rb, nbr, s0, lo, k);
      if (r != 0) { n += load<f64>(r + o); s += load<f64>(r + o + 8); }
    }
    return fn == FN_SUM ? s : s / n;
  }
  if (fn == FN_MIN || fn == FN_MAX) {
    const o = blockOff(g, BLK_MINMAX) + (fn == FN_MAX ? 8 : 0);
    let m: f64 = fn == FN_MAX ? -Infinity : Infinity;
    for (let k = lo; k <= hi; k++) {
      const r = recordIn(ring, rb, nbr, s0, lo, k);
      if (r != 0) { const x = load<f64>(r + o); m = fn == FN_MAX ? (x > m ? x : m) : (x < m ? x : m); }
    }
    return m == Infinity || m == -Infinity ? NaN : m;
  }
  if (fn == FN_DELTA) {
    const o = blockOff(g, BLK_FIRSTLAST);
    let ft: f64 = Infinity, fv: f64 = NaN, lt: f64 = -Infinity, lv: f64 = NaN;
    for (let k = lo; k <= hi; k++) {
      const r = recordIn(ring, rb, nbr, s0, lo, k);
      if (r == 0) continue;
      const p = r + o;
      if (load<f64>(p) < ft) { ft = load<f64>(p); fv = load<f64>(p + 8); }
      if (load<f64>(p + 16) > lt) { lt = load<f64>(p + 16); lv = load<f64>(p + 24); }
    }
    return lv - fv;
  }
  if (fn == FN_STDDEV) {
    const o = blockOff(g, BLK_MOM);
    let n: f64 = 0, mean: f64 = 0, m2: f64 = 0;
    for (let k = lo; k <= hi; k++) {
      const r = recordIn(ring, rb, nbr, s0, lo, k);
      if (r == 0) continue;
      const nb2 = load<f64>(r + o);
      if (nb2 == 0) continue;
      const nn = n + nb2;
      const delta = load<f64>(r + o + 8) - mean;
      mean += delta * nb2 / nn;
      m2 += load<f64>(r + o + 16) + delta * delta * n * nb2 / nn;
      n = nn;
    }
    return n < 2 ? NaN : Math.sqrt(m2 / (n - 1));
  }
  if (fn == FN_DERIV) return derivLinear(g, d, lo, hi, bucketMs);
  if (fn == FN_DERIV2) return derivQuadratic(g, d, lo, hi, bucketMs);
  return NaN;
}

function derivLinear(g: usize, d: usize, lo: i64, hi: i64, bucketMs: f64): f64 {
  const ring = ringOf(g, d);
  const rb = <usize>load<u32>(g + PG_REC_BYTES);
  const nbr = <i64>load<u32>(g + PG_NB);
  const s0 = ringSlot(lo, nbr);
  const o = blockOff(g, BLK_LSQ);
  let n: f64 = 0, mt: f64 = 0, mv: f64 = 0, s2: f64 = 0, c11: f64 = 0;
  for (let k = lo; k <= hi; k++) {
    const r = recordIn(ring, rb, nbr, s0, lo, k);
    if (r == 0) continue;
    const p = r + o;
    const ny = load<f64>(p);
    if (ny == 0) continue;
    const nn = n + ny;
    const dt = (<f64>(k - lo) * bucketMs) / 1000 + load<f64>(p + 8) - mt;
    const dv = load<f64>(p + 16) - mv;
    const w = n * ny / nn;
    s2 += load<f64>(p + 24) + dt * dt * w;
    c11 += load<f64>(p + 32) + dt * dv * w;
    mt += dt * ny / nn;
    mv += dv * ny / nn;
    n = nn;
  }
  return s2 > 0 ? c11 / s2 : NaN;
}

function derivQuadratic(g: usize, d: usize, lo: i64, hi: i64, bucketMs: f64): f64 {
  const ring = ringOf(g, d);
  const rb = <usize>load<u32>(g + PG_REC_BYTES);
  const nbr = <i64>load<u32>(g + PG_NB);
  const s0 = ringSlot(lo, nbr);
  const o = blockOff(g, BLK_LSQ2);
  let n: f64 = 0, mt: f64 = 0, mv: f64 = 0;
  let s2: f64 = 0, c11: f64 = 0, s3: f64 = 0, s4: f64 = 0, c21: f64 = 0;
  let distinct: f64 = 0;
  for (let k = lo; k <= hi; k++) {
    const r = recordIn(ring, rb, nbr, s0, lo, k);
    if (r == 0) continue;
    const p = r + o;
    const ny = load<f64>(p);
    if (ny == 0) continue;
    distinct += load<f64>(p + 80) != 0 ? 3 : (load<f64>(p + 64) < load<f64>(p + 72) ? 2 : 1);
    const nn = n + ny;
    const dt = (<f64>(k - lo) * bucketMs) / 1000 + load<f64>(p + 8) - mt;
    const dv = load<f64>(p + 16) - mv;
    // shifts of the accumulated set (a) and of the bucket (b) to the merged means
    const aa = -dt * ny / nn, ab = -dv * ny / nn;
    const ba = dt * n / nn, bb = dv * n / nn;
    const ys2 = load<f64>(p + 24), yc11 = load<f64>(p + 32), ys3 = load<f64>(p + 40);
    const ys4 = load<f64>(p + 48), yc21 = load<f64>(p + 56);
    const aa2 = aa * aa, ba2 = ba * ba;
    const ns2 = s2 + aa2 * n + ys2 + ba2 * ny;
    const nc11 = c11 + aa * ab * n + yc11 + ba * bb * ny;
    const ns3 = s3 + 3 * aa * s2 + aa2 * aa * n + ys3 + 3 * ba * ys2 + ba2 * ba * ny;
    const ns4 = s4 + 4 * aa * s3 + 6 * aa2 * s2 + aa2 * aa2 * n
      + ys4 + 4 * ba * ys3 + 6 * ba2 * ys2 + ba2 * ba2 * ny;
    const nc21 = c21 + ab * s2 + 2 * aa * c11 + aa2 * ab * n
      + yc21 + bb * ys2 + 2 * ba * yc11 + ba2 * bb * ny;
    s2 = ns2; c11 = nc11; s3 = ns3; s4 = ns4; c21 = nc21;
    mt += dt * ny / nn;
    mv += dv * ny / nn;
    n = nn;
  }
  if (distinct < 3) return NaN;
  return quadraticCurvature(n, s2, s3, s4, c11, c21);
}

/** 2c of the least-squares fit v = a + b·t + c·t², from central sums about the means. */
export function quadraticCurvature(n: f64, s2: f64, s3: f64, s4: f64, c11: f64, c21: f64): f64 {
  const q = s4 - s2 * s2 / n;
  return 2 * (s2 * c21 - s3 * c11) / (s2 * q - s3 * s3);
}

// Rate fits: per-bucket rates count/B of the completed buckets (lo … hi − 1), starting no
// earlier than the earliest bucket the RFIT block has seen; missing buckets are rate 0.
export function rateFit(order: i32, g: usize, d: usize, lo: i64, hi: i64, bucketMs: f64): f64 {
  const ring = ringOf(g, d);
  const rb = <usize>load<u32>(g + PG_REC_BYTES);
  const nbr = <i64>load<u32>(g + PG_NB);
  const s0 = ringSlot(lo, nbr);
  const first = load<i64>(d + <usize>load<u32>(g + PG_STATE_OFF));
  if (first == 0) return NaN;
  const f = first ^ ID_TAG;
  const from = f > lo ? f : lo;
  const m = hi - from;
  if (m < <i64>(order + 1)) return NaN;
  const o = blockOff(g, BLK_RFIT);
  const sec = bucketMs / 1000;
  let mean: f64 = 0;
  for (let k = from; k < hi; k++) {
    const r = recordIn(ring, rb, nbr, s0, lo, k);
    if (r != 0) mean += load<f64>(r + o) / sec;
  }
  // SPEC §4.1: on an empty window every function but count, sum and rate is NaN
  const cur = recordIn(ring, rb, nbr, s0, lo, hi);
  if (mean == 0 && (cur == 0 || load<f64>(cur + o) == 0)) return NaN;
  const nm = <f64>m;
  mean /= nm;
  const mx = (nm - 1) / 2;
  let s2: f64 = 0, s3: f64 = 0, s4: f64 = 0, c11: f64 = 0, c21: f64 = 0;
  for (let k = from; k < hi; k++) {
    const r = recordIn(ring, rb, nbr, s0, lo, k);
    const y = (r != 0 ? load<f64>(r + o) / sec : 0) - mean;
    const x = (<f64>(k - from) - mx) * sec;
    const x2 = x * x;
    s2 += x2; s3 += x2 * x; s4 += x2 * x2; c11 += x * y; c21 += x2 * y;
  }
  if (order == 1) return c11 / s2;
  return quadraticCurvature(nm, s2, s3, s4, c11, c21);
}
