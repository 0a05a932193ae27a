// Window cache: per (device, group) one record near the device header holding the merge of the
// whole window, in the bucket record's own block formats, tagged with the window's last
// bucket floor(τ/B) instead of a bucket id. A rule's query fills it by one scan of the ring
// (every block of the group at once, so avg and max of one window cost one walk); while τ
// stays in that bucket, updateGroup adds each new in-window event to it (groups.ts), so the
// next query is a few loads. When τ moves to a new bucket the tag no longer matches and the
// next query scans again; late events never touch it. Only the draining task writes it:
// queryFeature fills it, featureValue (other threads may call it) only scans (query.ts).
// Inside the cache record, LSQ times are seconds from the window start (as the scan merges
// them), and the LSQ2 min ts / max ts / mid flag describe the whole window, so the flag
// means "at least 3 distinct timestamps".
import {
  PG_NB, PG_BUCKET_MS, PG_BLOCK_OFF, PG_REC_BYTES, PG_MASK, PG_CACHE_OFF,
  BLK_CNT, BLK_SUM, BLK_MINMAX, BLK_FIRSTLAST, BLK_MOM, BLK_LSQ, BLK_LSQ2, PG_INV_BUCKET_MS,
} from '../layout';
import { FN_COUNT, FN_SUM, FN_AVG, FN_MIN, FN_MAX, FN_STDDEV, FN_DELTA, FN_RATE, FN_DERIV, FN_DERIV2, FN_RATE_DERIV, FN_RATE_DERIV2 } from './fns';
import { ID_TAG, floorDiv, recordIn, ringOf, ringSlot } from './groups';
import { resetRecord } from './blocks';
import { quadraticCurvature, rateFit } from './query';

@inline
function blockOff(g: usize, b: i32): usize {
  return <usize>load<u8>(g + PG_BLOCK_OFF + b);
}

/** The cache record of group `g` in device block `d` (near the device header, encode-plan.ts). */
@inline
export function cacheOf(g: usize, d: usize): usize {
  return d + <usize>load<u32>(g + PG_CACHE_OFF);
}

/** Window value through the cache; draining task only (it writes the cache). */
export function cachedWindowValue(fn: u32, g: usize, d: usize, tau: f64): f64 {
  const nb = <i64>load<u32>(g + PG_NB);
  const bucketMs = load<f64>(g + PG_BUCKET_MS);
  const hi = <i64>floorDiv(tau, bucketMs, load<f64>(g + PG_INV_BUCKET_MS));
  const lo = hi - nb + 1;
  // rate fits depend on which buckets are complete, not on a window merge: always scanned
  if (fn == FN_RATE_DERIV || fn == FN_RATE_DERIV2) return rateFit(fn == FN_RATE_DERIV ? 1 : 2, g, d, lo, hi, bucketMs);
  const c = cacheOf(g, d);
  if (load<i64>(c) != (hi ^ ID_TAG)) fill(g, d, c, lo, hi, bucketMs);
  if (fn == FN_COUNT) return load<f64>(c + blockOff(g, BLK_CNT));
  if (fn == FN_RATE) return load<f64>(c + blockOff(g, BLK_CNT)) / (<f64>nb * bucketMs / 1000);
  if (fn == FN_SUM) return load<f64>(c + blockOff(g, BLK_SUM) + 8);
  if (fn == FN_AVG) { const p = c + blockOff(g, BLK_SUM); return load<f64>(p + 8) / load<f64>(p); }
  if (fn == FN_MIN || fn == FN_MAX) {
    const m = load<f64>(c + blockOff(g, BLK_MINMAX) + (fn == FN_MAX ? 8 : 0));
    return m == Infinity || m == -Infinity ? NaN : m;
  }
  if (fn == FN_DELTA) {
    const p = c + blockOff(g, BLK_FIRSTLAST);
    return load<f64>(p + 16) == -Infinity ? NaN : load<f64>(p + 24) - load<f64>(p + 8);
  }
  if (fn == FN_STDDEV) {
    const p = c + blockOff(g, BLK_MOM);
    const n = load<f64>(p);
    return n < 2 ? NaN : Math.sqrt(load<f64>(p + 16) / (n - 1));
  }
  if (fn == FN_DERIV) {
    const p = c + blockOff(g, BLK_LSQ);
    const s2 = load<f64>(p + 24);
    return s2 > 0 ? load<f64>(p + 32) / s2 : NaN;
  }
  if (fn == FN_DERIV2) {
    const p = c + blockOff(g, BLK_LSQ2);
    if (load<f64>(p + 80) == 0) return NaN;
    return quadraticCurvature(load<f64>(p), load<f64>(p + 24), load<f64>(p + 40), load<f64>(p + 48), load<f64>(p + 32), load<f64>(p + 56));
  }
  return NaN;
}

/** Merges buckets lo … hi of the ring into the cache record, with the scan's formulas and order. */
function fill(g: usize, d: usize, c: usize, lo: i64, hi: i64, bucketMs: f64): void {
  const mask = load<u32>(g + PG_MASK);
  const rb = <usize>load<u32>(g + PG_REC_BYTES);
  const nb = <i64>load<u32>(g + PG_NB);
  const ring = ringOf(g, d);
  const s0 = ringSlot(lo, nb);
  resetRecord(g, mask, c, rb);
  const oCnt = blockOff(g, BLK_CNT), oSum = blockOff(g, BLK_SUM), oMm = blockOff(g, BLK_MINMAX), oFl = blockOff(g, BLK_FIRSTLAST);
  const hasCnt = (mask & (1 << BLK_CNT)) != 0, hasSum = (mask & (1 << BLK_SUM)) != 0;
  const hasMinMax = (mask & (1 << BLK_MINMAX)) != 0, hasFl = (mask & (1 << BLK_FIRSTLAST)) != 0;
  // the common blocks accumulate in locals (stores to the record would pin them to memory);
  // the moment blocks merge in a second pass, which keeps this loop small
  let cnt: f64 = 0, n: f64 = 0, sum: f64 = 0, mn: f64 = Infinity, mx: f64 = -Infinity;
  let ft: f64 = Infinity, fv: f64 = 0, lt: f64 = -Infinity, lv: f64 = 0;
  for (let k = lo; k <= hi; k++) {
    const r = recordIn(ring, rb, nb, s0, lo, k);
    if (r == 0) continue;
    if (hasCnt) cnt += load<f64>(r + oCnt);
    if (hasSum) { n += load<f64>(r + oSum); sum += load<f64>(r + oSum + 8); }
    if (hasMinMax) {
      const a = load<f64>(r + oMm), b = load<f64>(r + oMm + 8);
      if (a < mn) mn = a;
      if (b > mx) mx = b;
    }
    if (hasFl) {
      const p = r + oFl;
      if (load<f64>(p) < ft) { ft = load<f64>(p); fv = load<f64>(p + 8); }
      if (load<f64>(p + 16) > lt) { lt = load<f64>(p + 16); lv = load<f64>(p + 24); }
    }
  }
  if (hasCnt) store<f64>(c + oCnt, cnt);
  if (hasSum) { store<f64>(c + oSum, n); store<f64>(c + oSum + 8, sum); }
  if (hasMinMax) { store<f64>(c + oMm, mn); store<f64>(c + oMm + 8, mx); }
  if (hasFl) { store<f64>(c + oFl, ft); store<f64>(c + oFl + 8, fv); store<f64>(c + oFl + 16, lt); store<f64>(c + oFl + 24, lv); }
  if ((mask & ((1 << BLK_MOM) | (1 << BLK_LSQ) | (1 << BLK_LSQ2))) != 0) fillMoments(g, mask, ring, rb, nb, s0, c, lo, hi, bucketMs);
  store<i64>(c, hi ^ ID_TAG);
}

function fillMoments(g: usize, mask: u32, ring: usize, rb: usize, nb: i64, s0: i64, c: usize, lo: i64, hi: i64, bucketMs: f64): void {
  const hasMom = (mask & (1 << BLK_MOM)) != 0, hasLsq = (mask & (1 << BLK_LSQ)) != 0, hasLsq2 = (mask & (1 << BLK_LSQ2)) != 0;
  let distinct: f64 = 0;
  for (let k = lo; k <= hi; k++) {
    const r = recordIn(ring, rb, nb, s0, lo, k);
    if (r == 0) continue;
    if (hasMom) mergeMom(c + blockOff(g, BLK_MOM), r + blockOff(g, BLK_MOM));
    const at = (<f64>(k - lo) * bucketMs) / 1000;
    if (hasLsq) mergeLsq(c + blockOff(g, BLK_LSQ), r + blockOff(g, BLK_LSQ), at);
    if (hasLsq2) {
      const p = r + blockOff(g, BLK_LSQ2);
      if (load<f64>(p) != 0) {
        distinct += load<f64>(p + 80) != 0 ? 3 : (load<f64>(p + 64) < load<f64>(p + 72) ? 2 : 1);
        mergeLsq2(c + blockOff(g, BLK_LSQ2), p, at);
      }
    }
  }
  if (hasLsq2) store<f64>(c + blockOff(g, BLK_LSQ2) + 80, distinct >= 3 ? 1 : 0);
}

// Chan's merge of (n, mean, M2), as the stddev scan.
function mergeMom(q: usize, p: usize): void {
  const ny = load<f64>(p);
  if (ny == 0) return;
  const n = load<f64>(q);
  const nn = n + ny;
  const delta = load<f64>(p + 8) - load<f64>(q + 8);
  store<f64>(q + 8, load<f64>(q + 8) + delta * ny / nn);
  store<f64>(q + 16, load<f64>(q + 16) + load<f64>(p + 16) + delta * delta * n * ny / nn);
  store<f64>(q, nn);
}

// Shift merge of (n, t̄, v̄, Σdt², Σdt·dv), the bucket's mean time placed at `at` + t̄.
function mergeLsq(q: usize, p: usize, at: f64): void {
  const ny = load<f64>(p);
  if (ny == 0) return;
  const n = load<f64>(q);
  const nn = n + ny;
  const dt = at + load<f64>(p + 8) - load<f64>(q + 8);
  const dv = load<f64>(p + 16) - load<f64>(q + 16);
  const w = n * ny / nn;
  store<f64>(q + 24, load<f64>(q + 24) + load<f64>(p + 24) + dt * dt * w);
  store<f64>(q + 32, load<f64>(q + 32) + load<f64>(p + 32) + dt * dv * w);
  store<f64>(q + 8, load<f64>(q + 8) + dt * ny / nn);
  store<f64>(q + 16, load<f64>(q + 16) + dv * ny / nn);
  store<f64>(q, nn);
}

// Pébay shift merge of the LSQ2 sums (as the deriv2 scan) plus the window's min and max ts.
function mergeLsq2(q: usize, p: usize, at: f64): void {
  const ny = load<f64>(p);
  const n = load<f64>(q);
  const nn = n + ny;
  const dt = at + load<f64>(p + 8) - load<f64>(q + 8);
  const dv = load<f64>(p + 16) - load<f64>(q + 16);
  const aa = -dt * ny / nn, ab = -dv * ny / nn;
  const ba = dt * n / nn, bb = dv * n / nn;
  const s2 = load<f64>(q + 24), c11 = load<f64>(q + 32), s3 = load<f64>(q + 40), s4 = load<f64>(q + 48), c21 = load<f64>(q + 56);
  const ys2 = load<f64>(p + 24), yc11 = load<f64>(p + 32), ys3 = load<f64>(p + 40);
  const ys4 = load<f64>(p + 48), yc21 = load<f64>(p + 56);
  const aa2 = aa * aa, ba2 = ba * ba;
  store<f64>(q + 24, s2 + aa2 * n + ys2 + ba2 * ny);
  store<f64>(q + 32, c11 + aa * ab * n + yc11 + ba * bb * ny);
  store<f64>(q + 40, s3 + 3 * aa * s2 + aa2 * aa * n + ys3 + 3 * ba * ys2 + ba2 * ba * ny);
  store<f64>(q + 48, s4 + 4 * aa * s3 + 6 * aa2 * s2 + aa2 * aa2 * n
    + ys4 + 4 * ba * ys3 + 6 * ba2 * ys2 + ba2 * ba2 * ny);
  store<f64>(q + 56, c21 + ab * s2 + 2 * aa * c11 + aa2 * ab * n
    + yc21 + bb * ys2 + 2 * ba * yc11 + ba2 * bb * ny);
  store<f64>(q + 8, load<f64>(q + 8) + dt * ny / nn);
  store<f64>(q + 16, load<f64>(q + 16) + dv * ny / nn);
  if (n == 0 || load<f64>(p + 64) < load<f64>(q + 64)) store<f64>(q + 64, load<f64>(p + 64));
  if (n == 0 || load<f64>(p + 72) > load<f64>(q + 72)) store<f64>(q + 72, load<f64>(p + 72));
  store<f64>(q, nn);
}
