// Bucket rings of feature groups: one ring of W/B bucket records per (device, metric, W, B).
// Record slot of bucket k is k mod nb; a record whose tagged id is not k holds an expired
// bucket (or none: zeroed memory decodes to an id no window contains).
import {
  PG_NB, PG_BUCKET_MS, PG_MASK, PG_REC_BYTES, PG_STATE_OFF, BLK_RFIT, PG_INV_BUCKET_MS, PG_INV_NB, PG_CACHE_OFF,
  GROUP_HEADER_BYTES,
} from '../layout';
import { addEvent, resetRecord } from './blocks';
import { cacheAdded, slideCache } from './window-cache';
import { K_CACHES_LIVE } from './private';

export const ID_TAG: i64 = i64.MIN_VALUE;

@inline
export function bucketOf(ts: f64, bucketMs: f64): i64 {
  return <i64>Math.floor(ts / bucketMs);
}

/** id mod nb in [0, nb), computed in f64: exact for |id| < 2^53 and much cheaper than i64.rem_s. */
@inline
export function ringSlot(id: i64, nb: i64): i64 {
  const x = <f64>id;
  const n = <f64>nb;
  return <i64>(x - Math.floor(x / n) * n);
}

/**
 * floor(x / d) from a precomputed 1/d: the product may round across an integer, and one
 * correction step against the exact products q·d restores floor (docs/kernel.md).
 */
@inline
export function floorDiv(x: f64, d: f64, inv: f64): f64 {
  let q = Math.floor(x * inv);
  while (q * d > x) q -= 1;
  while ((q + 1) * d <= x) q += 1;
  return q;
}

/**
 * Applies one event to group `g` of device block `d`; returns true when it is late. With a
 * compiled rules module (rules/jit.ts) applyEvents leaves the sliding groups to its `upkeep`
 * (src/kernel/rules-jit/upkeep.ts: this function with the group's layout as constants).
 */
@inline
export function updateGroup(g: usize, d: usize, ts: f64, v: f64, tau: f64): bool {
  const bucketMs = load<f64>(g + PG_BUCKET_MS);
  const invB = load<f64>(g + PG_INV_BUCKET_MS);
  const nbf = <f64>load<u32>(g + PG_NB);
  const idf = floorDiv(ts, bucketMs, invB);
  // only an event older than τ can be late
  if (ts < tau && idf < floorDiv(tau, bucketMs, invB) - nbf + 1) return true;
  const id = <i64>idf;
  const r = idf - floorDiv(idf, nbf, load<f64>(g + PG_INV_NB)) * nbf;
  const mask = load<u32>(g + PG_MASK);
  const recBytes = <usize>load<u32>(g + PG_REC_BYTES);
  const base = d + <usize>load<u32>(g + PG_STATE_OFF);
  const rec = base + GROUP_HEADER_BYTES + <usize>r * recBytes;
  // The window cache (window-cache.ts), once a query filled it, follows the events. It slides
  // to τ's bucket before a new bucket reuses this ring slot (the slot may hold a bucket that
  // leaves the window), else after the event is written. Until some cache of the program was
  // filled (without rules: never) nothing here touches the device's cache records: reading
  // their tag ahead of the ring record made a features-only event 10–30% slower.
  const caching = load<u32>(K_CACHES_LIVE) != 0;
  const cache = d + <usize>load<u32>(g + PG_CACHE_OFF);
  let synced = false, cacheLive = false;
  if ((load<i64>(rec) ^ ID_TAG) != id) {
    if (caching && load<i64>(cache) != 0) { cacheLive = cacheToTau(g, d, cache, ts, tau, idf, r); synced = true; }
    resetRecord(g, mask, rec, recBytes);
    store<i64>(rec, id ^ ID_TAG);
  }
  const start = idf * bucketMs;
  // seconds from the bucket start: ts − start is exact; × 0.001 instead of a division
  const tb = (ts - start) * 0.001;
  addEvent(g, mask, rec, ts, tb, v);
  if (caching && !synced && load<i64>(cache) != 0) cacheLive = cacheToTau(g, d, cache, ts, tau, idf, r);
  if (cacheLive) cacheAddEvent(g, mask, cache, rec, ts, tb, v, tau, idf, r);
  if ((mask & (1 << BLK_RFIT)) != 0) {
    const first = load<i64>(base);
    if (first == 0 || id < (first ^ ID_TAG)) store<i64>(base, id ^ ID_TAG);
  }
  return false;
}

/** Start of the group's ring of records in device block `d`. */
@inline
export function ringOf(g: usize, d: usize): usize {
  return d + <usize>load<u32>(g + PG_STATE_OFF) + GROUP_HEADER_BYTES;
}

/**
 * Record of bucket k while walking a window lo … lo + nb − 1 whose first bucket sits in ring
 * slot s0 (no division per bucket); 0 when the ring does not hold bucket k.
 */
@inline
export function recordIn(ring: usize, recBytes: usize, nb: i64, s0: i64, lo: i64, k: i64): usize {
  let s = s0 + (k - lo);
  if (s >= nb) s -= nb;
  const rec = ring + <usize>s * recBytes;
  return (load<i64>(rec) ^ ID_TAG) == k ? rec : 0;
}

/** Brings a live cache record to τ's bucket before or after an event (updateGroup); false when it was dropped. Out of line: the apply loop stays small. */
function cacheToTau(g: usize, d: usize, cache: usize, ts: f64, tau: f64, idf: f64, r: f64): bool {
  const hi = ts < tau ? floorDiv(tau, load<f64>(g + PG_BUCKET_MS), load<f64>(g + PG_INV_BUCKET_MS)) : idf;
  const from = load<i64>(cache) ^ ID_TAG, to = <i64>hi;
  if (from == to) return true;
  // the first leaving bucket, from + 1 − nb, shares its ring slot with from + 1: known from
  // this event's slot r when the event is in τ's bucket (no division)
  let s0: i64 = -1;
  if (ts >= tau) {
    s0 = <i64>r - (to - from) + 1;
    if (s0 < 0) s0 += <i64>load<u32>(g + PG_NB);
  }
  return slideCache(g, d, cache, from, to, s0);
}

/** Adds the event to the live cache record as to its bucket record `rec` (slot `r`). */
function cacheAddEvent(g: usize, mask: u32, cache: usize, rec: usize, ts: f64, tb: f64, v: f64, tau: f64, idf: f64, r: f64): void {
  const bucketMs = load<f64>(g + PG_BUCKET_MS);
  const hi = ts < tau ? floorDiv(tau, bucketMs, load<f64>(g + PG_INV_BUCKET_MS)) : idf;
  addEvent(g, mask, cache, ts, ((idf - hi + <f64>load<u32>(g + PG_NB) - 1) * bucketMs) / 1000 + tb, v);
  cacheAdded(g, mask, cache, rec, <u64>r, v, idf == hi);
}
