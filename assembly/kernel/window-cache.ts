// Window cache: per (device, group) one record near the device header holding the merge of the
// whole window, in the bucket record's own block formats, tagged with the window's last
// bucket floor(τ/B) instead of a bucket id, followed by an f64 bound on how far its sum may
// have drifted from what a scan gives. A rule's query fills it by one scan of the ring (every
// block of the group at once, so avg and max of one window cost one walk); updateGroup adds
// each new in-window event to it (groups.ts). When τ moves to a later bucket the cache
// *slides* (slideCache): the buckets that leave the window are taken back out of it, exactly
// for counts, with a tracked rounding bound for sums, and by a check for min/max/first/last
// (a bucket holding the cached extreme cannot be taken out: the cache is dropped and the
// next query scans). Groups with moments or fits (stddev, deriv, deriv2) never slide. Late
// events never touch it. Only the draining task writes it: queryFeature fills it,
// featureValue (other threads may call it) only scans (query.ts).
// Inside the cache record, LSQ times are seconds from the window start (as the scan merges
// them), and the LSQ2 min ts / max ts / mid flag describe the whole window, so the flag
// means "at least 3 distinct timestamps".
import {
  PG_NB, PG_BUCKET_MS, PG_BLOCK_OFF, PG_REC_BYTES, PG_MASK, PG_CACHE_OFF, PG_FLAGS, GF_SLIDES, GF_READS_MIN, GF_READS_MAX,
  BLK_CNT, BLK_SUM, BLK_MINMAX, BLK_FIRSTLAST, BLK_MOM, BLK_LSQ, BLK_LSQ2, PG_INV_BUCKET_MS, PG_WINDOW_SEC,
  CT_DRIFT, CT_OCCUPIED, SUM_DRIFT_LIMIT, SUM_ROUNDING, GF_FIFO, CT_FIFO, FIFO_VALUES, FIFO_SECOND_VALUES, FH_OWNER,
} from '../layout';
import { FN_COUNT, FN_SUM, FN_AVG, FN_MIN, FN_MAX, FN_STDDEV, FN_DELTA, FN_RATE, FN_DERIV, FN_DERIV2, FN_RATE_DERIV, FN_RATE_DERIV2 } from './fns';
import { ID_TAG, floorDiv, recordIn, ringOf, ringSlot } from './groups';
import { resetBlock, resetRecord } from './blocks';
import { quadraticCurvature, rateFit } from './query';
import { K_CACHES_LIVE } from './private';
import { FK, fifoAdded, fifoHeader, fifoPos, fifoSecond } from './window-fifo';


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
  const bucketMs = load<f64>(g + PG_BUCKET_MS);
  // rate fits depend on which buckets are complete, not on a window merge: always scanned
  if (fn == FN_RATE_DERIV || fn == FN_RATE_DERIV2) {
    const hi = <i64>floorDiv(tau, bucketMs, load<f64>(g + PG_INV_BUCKET_MS));
    return rateFit(fn == FN_RATE_DERIV ? 1 : 2, g, d, hi - <i64>load<u32>(g + PG_NB) + 1, hi, bucketMs);
  }
  const c = cacheOf(g, d);
  // the tag is the window's last bucket: the record is current while τ lies in that bucket
  // (the products are exact, as in floorDiv; a zero tag decodes to a bucket no τ lies in)
  const start = <f64>(load<i64>(c) ^ ID_TAG) * bucketMs;
  // a sliding record whose window holds nothing is the empty record whatever its tag: the
  // next event (updateGroup) retags it, so a sparse metric's window is not synced per query
  if (!(tau >= start && tau < start + bucketMs)
    && !(load<i64>(c) != 0 && (load<u32>(g + PG_FLAGS) & GF_SLIDES) != 0 && load<u64>(c + <usize>load<u32>(g + PG_REC_BYTES) + CT_OCCUPIED) == 0)) {
    syncCache(g, d, c, tau, false);
  }
  if (fn == FN_COUNT) return load<f64>(c + blockOff(g, BLK_CNT));
  if (fn == FN_RATE) return load<f64>(c + blockOff(g, BLK_CNT)) / load<f64>(g + PG_WINDOW_SEC);
  if (fn == FN_SUM || fn == FN_AVG) {
    const p = c + blockOff(g, BLK_SUM);
    // slides and adds may have drifted the sum from the scan's: past the bound, scan again
    // (a drift ≤ 0 marks a record exactly as the scan gives it, whatever its rounding)
    const drift = load<f64>(c + <usize>load<u32>(g + PG_REC_BYTES) + CT_DRIFT);
    if (drift > 0 && drift > Math.abs(load<f64>(p + 8)) * SUM_DRIFT_LIMIT) syncCache(g, d, c, tau, true);
    return fn == FN_SUM ? load<f64>(p + 8) : load<f64>(p + 8) / load<f64>(p);
  }
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

/** Brings cache record `c` to the window at τ: by a slide when it can, else (or `refill`) by a scan. */
export function syncCache(g: usize, d: usize, c: usize, tau: f64, refill: bool): void {
  const bucketMs = load<f64>(g + PG_BUCKET_MS);
  const hi = <i64>floorDiv(tau, bucketMs, load<f64>(g + PG_INV_BUCKET_MS));
  const key = load<i64>(c);
  if (refill || key == 0 || !slideCache(g, d, c, key ^ ID_TAG, hi, -1)) fill(g, d, c, hi - <i64>load<u32>(g + PG_NB) + 1, hi, bucketMs);
}

/** Merges buckets lo … hi of the ring into the cache record, with the scan's formulas and order. */
function fill(g: usize, d: usize, c: usize, lo: i64, hi: i64, bucketMs: f64): void {
  const mask = load<u32>(g + PG_MASK);
  const rb = <usize>load<u32>(g + PG_REC_BYTES);
  const nb = <i64>load<u32>(g + PG_NB);
  const ring = ringOf(g, d);
  const s0 = ringSlot(lo, nb);
  resetRecord(g, mask, c, rb);
  const oCnt = blockOff(g, BLK_CNT), oSum = blockOff(g, BLK_SUM);
  const hasCnt = (mask & (1 << BLK_CNT)) != 0, hasSum = (mask & (1 << BLK_SUM)) != 0;
  const extremes = (mask & ((1 << BLK_MINMAX) | (1 << BLK_FIRSTLAST))) != 0;
  // counts and sums accumulate in locals (stores to the record would pin them to memory);
  // extremes fold into the record (reset to their identities); the moment blocks merge in
  // a second pass, which keeps this loop small
  let cnt: f64 = 0, n: f64 = 0, sum: f64 = 0;
  // drift: the sum's own rounding, so that taking a large bucket back out later cannot leave
  // an error that is large next to what remains (1e17 + 3 rounds to 1e17)
  let occ: u64 = 0, drift: f64 = 0;
  let s = s0;
  for (let k = lo; k <= hi; k++, s++) {
    if (s == nb) s = 0;
    const r = ring + <usize>s * rb;
    if ((load<i64>(r) ^ ID_TAG) != k) continue;
    occ |= <u64>1 << <u64>s;
    if (hasCnt) cnt += load<f64>(r + oCnt);
    if (hasSum) {
      n += load<f64>(r + oSum);
      sum += load<f64>(r + oSum + 8);
      drift += Math.abs(sum) * SUM_ROUNDING;
    }
    if (extremes) foldExtremes(g, mask, c, r);
  }
  if (hasCnt) store<f64>(c + oCnt, cnt);
  if (hasSum) { store<f64>(c + oSum, n); store<f64>(c + oSum + 8, sum); }
  if ((mask & ((1 << BLK_MOM) | (1 << BLK_LSQ) | (1 << BLK_LSQ2))) != 0) fillMoments(g, mask, ring, rb, nb, s0, c, lo, hi, bucketMs);
  store<u32>(K_CACHES_LIVE, 1);
  store<f64>(c + rb + CT_DRIFT, -drift);
  store<u64>(c + rb + CT_OCCUPIED, nb <= 64 ? occ : 0);
  // the FIFO starts with no entry: every occupied bucket is read from its ring until it leaves
  if ((load<u32>(g + PG_FLAGS) & GF_FIFO) != 0) store<u64>(c + rb + CT_FIFO, fifoHeader(0, 0, <u32>popcnt(occ), 0));
  store<i64>(c, hi ^ ID_TAG);
}

// The cache record's trailer (encode-plan.ts reserves it after the record's PG_REC_BYTES):
// CT_DRIFT (layout.ts), an f64 bound on how far the cached sum may be from the exact sum of
// the window's bucket sums (a fill stores it negated: the record is then exactly what a scan
// gives; the first change makes it positive), and CT_OCCUPIED, a u64 with bit s set when
// ring slot s holds a bucket of the cached window (groups with nb ≤ 64). GF_FIFO groups keep
// a value FIFO after it (window-fifo.ts).


/**
 * updateGroup added an in-window event to its bucket record `rec` (ring slot `slot`) and to
 * the cache `c`: the slot now holds a bucket of the window, and the sum's rounding (the
 * bucket's own too: that sum is what a slide later takes back out) counts in the drift.
 */
@inline
export function cacheAdded(g: usize, mask: u32, c: usize, rec: usize, slot: u64, v: f64, newest: bool): void {
  const t = c + <usize>load<u32>(g + PG_REC_BYTES);
  const occ = load<u64>(t + CT_OCCUPIED);
  store<u64>(t + CT_OCCUPIED, occ | (<u64>1 << slot));
  if ((mask & (1 << BLK_SUM)) != 0) {
    const o = blockOff(g, BLK_SUM) + 8;
    store<f64>(t + CT_DRIFT, Math.abs(load<f64>(t + CT_DRIFT)) + (Math.abs(load<f64>(c + o)) + Math.abs(load<f64>(rec + o))) * SUM_ROUNDING);
  }
  if ((load<u32>(g + PG_FLAGS) & GF_FIFO) != 0) fifoAdded(t + CT_FIFO, occ, <u64>1 << slot, v, newest);
}

/** `bits` of a ring of nb ≤ 64 slots rotated so that slot `first` is bit 0: ctz then walks them in bucket order. */
// @ts-ignore: decorator
@inline
function fromSlot(bits: u64, first: i64, nb: i64): u64 {
  const r = (bits >> <u64>first) | (bits << <u64>(nb - first));
  return nb == 64 ? r : r & ((<u64>1 << <u64>nb) - 1);
}

/** Bits first … first + m − 1 (mod nb) of a ring of nb ≤ 64 slots; m < nb. */
@inline
function slotRange(first: i64, m: i64, nb: i64): u64 {
  if (first + m <= nb) return ((<u64>1 << <u64>m) - 1) << <u64>first;
  return (((<u64>1 << <u64>(nb - first)) - 1) << <u64>first) | ((<u64>1 << <u64>(first + m - nb)) - 1);
}

/**
 * Moves cache record `c`, tagged for window end `from`, to window end `to` > `from`: the
 * buckets from − nb + 1 … to − nb leave the window (only the occupied ones are read); no
 * later bucket holds events yet (every ring write goes through updateGroup, which slides
 * first). Counts and sums are taken back out (sums with their rounding in the drift bound);
 * when a leaving bucket held a cached extreme (min/max the program reads, first, last), the
 * extremes are merged again from the occupied buckets that stay. Returns false, with the
 * cache dropped (tag 0), for groups that cannot slide (moments, fits, nb > 64). `s0`: ring
 * slot of bucket from − nb + 1 when the caller knows it, else −1.
 */
// @ts-ignore: decorator
@inline
export function slideCache(g: usize, d: usize, c: usize, from: i64, to: i64, s0: i64): bool {
  const flags = load<u32>(g + PG_FLAGS);
  if ((flags & GF_SLIDES) == 0 || to < from) { store<i64>(c, 0); return false; }
  const nb = <i64>load<u32>(g + PG_NB);
  const t = c + <usize>load<u32>(g + PG_REC_BYTES);
  store<i64>(c, to ^ ID_TAG);
  if (to - from >= nb) {
    // the whole window left: the new one holds nothing yet
    emptyCache(g, c);
    return true;
  }
  const first = s0 >= 0 ? s0 : ringSlot(from - nb + 1, nb);
  const leaving = slotRange(first, to - from, nb);
  const occ = load<u64>(t + CT_OCCUPIED);
  // most slides in a sparse stream cross only empty buckets; when every occupied bucket
  // leaves, the record is emptied without reading them (and without rounding residue)
  if ((occ & leaving) != 0) {
    if ((occ & ~leaving) == 0) {
      emptyCache(g, c);
    } else {
      store<u64>(t + CT_OCCUPIED, occ & ~leaving);
      takeOut(g, d, c, flags, first, nb, occ & leaving, occ & ~leaving);
    }
  }
  return true;
}

function emptyCache(g: usize, c: usize): void {
  const rb = <usize>load<u32>(g + PG_REC_BYTES);
  resetRecord(g, load<u32>(g + PG_MASK), c, rb);
  store<f64>(c + rb + CT_DRIFT, 0);
  store<u64>(c + rb + CT_OCCUPIED, 0);
  if ((load<u32>(g + PG_FLAGS) & GF_FIFO) != 0) store<u64>(c + rb + CT_FIFO, 0);
}

/**
 * Takes the buckets of ring slots `sel` out of cache record `c`, oldest first (the window's
 * first bucket is in slot `first`); `rest` are the slots that stay. A bucket with a FIFO
 * entry of one value is taken out as that value, the others from their ring records.
 */
function takeOut(g: usize, d: usize, c: usize, flags: u32, first: i64, nb: i64, sel: u64, rest: u64): void {
  const mask = load<u32>(g + PG_MASK);
  const rb = <usize>load<u32>(g + PG_REC_BYTES);
  const t = c + rb;
  const ring = ringOf(g, d);
  const hasCnt = (mask & (1 << BLK_CNT)) != 0, hasSum = (mask & (1 << BLK_SUM)) != 0;
  const hasMinMax = (mask & (1 << BLK_MINMAX)) != 0, hasFl = (mask & (1 << BLK_FIRSTLAST)) != 0;
  const oCnt = blockOff(g, BLK_CNT), oSum = blockOff(g, BLK_SUM), oMm = blockOff(g, BLK_MINMAX), oFl = blockOff(g, BLK_FIRSTLAST);
  const readsMin = (flags & GF_READS_MIN) != 0, readsMax = (flags & GF_READS_MAX) != 0;
  let cnt = hasCnt ? load<f64>(c + oCnt) : 0;
  let n = hasSum ? load<f64>(c + oSum) : 0, sum = hasSum ? load<f64>(c + oSum + 8) : 0;
  let drift = Math.abs(load<f64>(t + CT_DRIFT));
  const mn = hasMinMax ? load<f64>(c + oMm) : 0, mx = hasMinMax ? load<f64>(c + oMm + 8) : 0;
  const ft = hasFl ? load<f64>(c + oFl) : 0, lt = hasFl ? load<f64>(c + oFl + 16) : 0;
  let extremes = false;
  const fifo = (flags & GF_FIFO) != 0;
  const f = t + CT_FIFO;
  const hd = fifo ? load<u32>(f) : 0;
  for (let bits = fromSlot(sel, first, nb), j: u32 = 0; bits != 0; bits &= bits - 1, j++) {
    const s = slotAt(bits, first, nb);
    const p = fifo ? fifoPos(hd, j) : -1;
    if (p >= 0) {
      // one value a, or two (a, then b): what the record holds, count, n, sum (0 + a) + b, min, max
      const a = load<f64>(f + FIFO_VALUES + (<usize>p << 3));
      let k1: f64 = 1, lo = a, hi = a, s1 = 0 + a;
      const sec = fifoSecond(f, p);
      if (sec >= 0) {
        const b = load<f64>(f + FIFO_SECOND_VALUES + (<usize>sec << 3));
        k1 = 2;
        if (b < lo) lo = b;
        if (b > hi) hi = b;
        s1 += b;
        store<u8>(f + FH_OWNER + sec, 0);
      }
      if (hasMinMax && ((readsMin && lo <= mn) || (readsMax && hi >= mx))) extremes = true;
      if (hasCnt) cnt -= k1;
      if (hasSum) {
        n -= k1;
        sum -= s1;
        drift += Math.abs(sum) * SUM_ROUNDING;
      }
      continue;
    }
    const r = ring + <usize>s * rb;
    if (hasMinMax && ((readsMin && load<f64>(r + oMm) <= mn) || (readsMax && load<f64>(r + oMm + 8) >= mx))) extremes = true;
    if (hasFl && (load<f64>(r + oFl) <= ft || load<f64>(r + oFl + 16) >= lt)) extremes = true;
    if (hasCnt) cnt -= load<f64>(r + oCnt);
    if (hasSum) {
      n -= load<f64>(r + oSum);
      sum -= load<f64>(r + oSum + 8);
      drift += Math.abs(sum) * SUM_ROUNDING;
    }
  }
  if (hasCnt) store<f64>(c + oCnt, cnt);
  if (hasSum) { store<f64>(c + oSum, n); store<f64>(c + oSum + 8, sum); store<f64>(t + CT_DRIFT, drift); }
  if (fifo) {
    // the leaving buckets are the oldest: first the missing ones, then the oldest entries
    let head = hd & 0xff, k = (hd >> 8) & 0xff, missing = (hd >> 16) & 0xff;
    const out = <u32>popcnt(sel);
    if (out <= missing) {
      missing -= out;
    } else {
      const gone = out - missing;
      missing = 0;
      head += gone;
      if (head >= FK) head -= FK;
      k -= gone;
    }
    store<u32>(f, fifoHeader(head, k, missing, hd >>> 24));
  }
  if (extremes) mergeExtremes(g, mask, c, ring, rb, fromSlot(rest, first, nb), first, nb, fifo);
}

/** The ring slot of the lowest bit of `bits` (fromSlot(…, first, nb)). */
// @ts-ignore: decorator
@inline
function slotAt(bits: u64, first: i64, nb: i64): i64 {
  const s = first + <i64>ctz(bits);
  return s >= nb ? s - nb : s;
}

/**
 * Min/max and first/last of the cache again, from the occupied buckets of the window:
 * `bits`, slots in bucket order from slot `first` (fromSlot), with the FIFO's values when the
 * group has one (`fifo`: a FIFO group has min/max and no first/last).
 */
function mergeExtremes(g: usize, mask: u32, c: usize, ring: usize, rb: usize, bits: u64, first: i64, nb: i64, fifo: bool): void {
  resetExtremes(g, mask, c);
  const f = c + rb + CT_FIFO;
  const hd = fifo ? load<u32>(f) : 0;
  const o = blockOff(g, BLK_MINMAX);
  // buckets hold disjoint time ranges, so the order of the walk cannot change first/last
  for (let j: u32 = 0; bits != 0; bits &= bits - 1, j++) {
    const s = slotAt(bits, first, nb);
    const p = fifo ? fifoPos(hd, j) : -1;
    if (p >= 0) {
      // foldExtremes of the record of one value or two
      const a = load<f64>(f + FIFO_VALUES + (<usize>p << 3));
      let lo = a, hi = a;
      const sec = fifoSecond(f, p);
      if (sec >= 0) {
        const b = load<f64>(f + FIFO_SECOND_VALUES + (<usize>sec << 3));
        if (b < lo) lo = b;
        if (b > hi) hi = b;
      }
      if (lo < load<f64>(c + o)) store<f64>(c + o, lo);
      if (hi > load<f64>(c + o + 8)) store<f64>(c + o + 8, hi);
      continue;
    }
    foldExtremes(g, mask, c, ring + <usize>s * rb);
  }
}

/** The identities of the min/max and first/last blocks of record `c`. */
function resetExtremes(g: usize, mask: u32, c: usize): void {
  if ((mask & (1 << BLK_MINMAX)) != 0) resetBlock(BLK_MINMAX, c + blockOff(g, BLK_MINMAX));
  if ((mask & (1 << BLK_FIRSTLAST)) != 0) resetBlock(BLK_FIRSTLAST, c + blockOff(g, BLK_FIRSTLAST));
}

/** Merges the min/max and first/last of bucket record `r` into record `c`. */
// @ts-ignore: decorator
@inline
function foldExtremes(g: usize, mask: u32, c: usize, r: usize): void {
  if ((mask & (1 << BLK_MINMAX)) != 0) {
    const o = blockOff(g, BLK_MINMAX);
    if (load<f64>(r + o) < load<f64>(c + o)) store<f64>(c + o, load<f64>(r + o));
    if (load<f64>(r + o + 8) > load<f64>(c + o + 8)) store<f64>(c + o + 8, load<f64>(r + o + 8));
  }
  if ((mask & (1 << BLK_FIRSTLAST)) != 0) {
    const p = r + blockOff(g, BLK_FIRSTLAST), q = c + blockOff(g, BLK_FIRSTLAST);
    if (load<f64>(p) < load<f64>(q)) { store<f64>(q, load<f64>(p)); store<f64>(q + 8, load<f64>(p + 8)); }
    if (load<f64>(p + 16) > load<f64>(q + 16)) { store<f64>(q + 16, load<f64>(p + 16)); store<f64>(q + 24, load<f64>(p + 24)); }
  }
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
