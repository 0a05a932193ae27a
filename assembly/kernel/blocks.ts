// Accumulator blocks of a bucket record: reset and per-event update. Every block is
// self-contained (carries its own n where it needs one) so that blocks added to a kept
// group by a rule reload start empty while the others keep their state.
import {
  BLK_CNT, BLK_SUM, BLK_MINMAX, BLK_FIRSTLAST, BLK_MOM, BLK_LSQ, BLK_LSQ2, BLK_RFIT,
  PG_BLOCK_OFF,
} from '../layout';

export const BLOCK_BYTES: StaticArray<u32> = [8, 16, 16, 32, 24, 40, 88, 8];

/** Writes the empty value of block `b` at `p`: zero, except identities for min/max and first/last. */
export function resetBlock(b: i32, p: usize): void {
  memory.fill(p, 0, <usize>unchecked(BLOCK_BYTES[b]));
  if (b == BLK_MINMAX) {
    store<f64>(p, Infinity);
    store<f64>(p + 8, -Infinity);
  } else if (b == BLK_FIRSTLAST) {
    store<f64>(p, Infinity);
    store<f64>(p + 16, -Infinity);
  }
}

/** Resets every block of a record (the bucket id is written by the caller). */
export function resetRecord(g: usize, mask: u32, rec: usize, recBytes: usize): void {
  // plain stores: records are small, and memory.fill is a runtime call on shared memory
  for (let p = rec + 8; p < rec + recBytes; p += 8) store<f64>(p, 0);
  if ((mask & (1 << BLK_MINMAX)) != 0) {
    const p = rec + <usize>load<u8>(g + PG_BLOCK_OFF + BLK_MINMAX);
    store<f64>(p, Infinity);
    store<f64>(p + 8, -Infinity);
  }
  if ((mask & (1 << BLK_FIRSTLAST)) != 0) {
    const p = rec + <usize>load<u8>(g + PG_BLOCK_OFF + BLK_FIRSTLAST);
    store<f64>(p, Infinity);
    store<f64>(p + 16, -Infinity);
  }
}

/** Adds one event to a record. `t` is the event time in seconds from the bucket start. */
@inline
export function addEvent(g: usize, mask: u32, rec: usize, ts: f64, t: f64, v: f64): void {
  if ((mask & (1 << BLK_CNT)) != 0) {
    const p = rec + <usize>load<u8>(g + PG_BLOCK_OFF + BLK_CNT);
    store<f64>(p, load<f64>(p) + 1);
  }
  if ((mask & (1 << BLK_SUM)) != 0) {
    const p = rec + <usize>load<u8>(g + PG_BLOCK_OFF + BLK_SUM);
    store<f64>(p, load<f64>(p) + 1);
    store<f64>(p + 8, load<f64>(p + 8) + v);
  }
  if ((mask & (1 << BLK_MINMAX)) != 0) {
    const p = rec + <usize>load<u8>(g + PG_BLOCK_OFF + BLK_MINMAX);
    if (v < load<f64>(p)) store<f64>(p, v);
    if (v > load<f64>(p + 8)) store<f64>(p + 8, v);
  }
  if ((mask & (1 << BLK_FIRSTLAST)) != 0) {
    const p = rec + <usize>load<u8>(g + PG_BLOCK_OFF + BLK_FIRSTLAST);
    // earliest: smallest ts, ties keep the first arrival; latest: greatest ts, ties take the latest arrival
    if (ts < load<f64>(p)) { store<f64>(p, ts); store<f64>(p + 8, v); }
    if (ts >= load<f64>(p + 16)) { store<f64>(p + 16, ts); store<f64>(p + 24, v); }
  }
  if ((mask & (1 << BLK_MOM)) != 0) {
    const p = rec + <usize>load<u8>(g + PG_BLOCK_OFF + BLK_MOM);
    const n = load<f64>(p) + 1;
    const mean = load<f64>(p + 8);
    const d = v - mean;
    const m2 = mean + d / n;
    store<f64>(p, n);
    store<f64>(p + 8, m2);
    store<f64>(p + 16, load<f64>(p + 16) + d * (v - m2));
  }
  if ((mask & (1 << BLK_LSQ)) != 0) {
    const p = rec + <usize>load<u8>(g + PG_BLOCK_OFF + BLK_LSQ);
    const n0 = load<f64>(p);
    const n = n0 + 1;
    const dt = t - load<f64>(p + 8);
    const dv = v - load<f64>(p + 16);
    const inv = 1 / n; // one division per event, not three
    store<f64>(p, n);
    store<f64>(p + 8, load<f64>(p + 8) + dt * inv);
    store<f64>(p + 16, load<f64>(p + 16) + dv * inv);
    const w = n0 * inv;
    store<f64>(p + 24, load<f64>(p + 24) + dt * dt * w);
    store<f64>(p + 32, load<f64>(p + 32) + dt * dv * w);
  }
  if ((mask & (1 << BLK_LSQ2)) != 0) {
    addLsq2(rec + <usize>load<u8>(g + PG_BLOCK_OFF + BLK_LSQ2), ts, t, v);
  }
  if ((mask & (1 << BLK_RFIT)) != 0) {
    const p = rec + <usize>load<u8>(g + PG_BLOCK_OFF + BLK_RFIT);
    store<f64>(p, load<f64>(p) + 1);
  }
}

// LSQ2 layout: n, mt, mv, S2, C11, S3, S4, C21, minTs, maxTs, mid. Central sums about the
// block's own means (dt = t − mt, dv = v − mv): S2 = Σdt², S3 = Σdt³, S4 = Σdt⁴,
// C11 = Σdt·dv, C21 = Σdt²·dv. Adding a point is merging a one-point set (see merge.ts).
function addLsq2(p: usize, ts: f64, t: f64, v: f64): void {
  const n0 = load<f64>(p);
  const n = n0 + 1;
  const dt = t - load<f64>(p + 8);
  const dv = v - load<f64>(p + 16);
  const s2 = load<f64>(p + 24);
  const c11 = load<f64>(p + 32);
  const s3 = load<f64>(p + 40);
  const s4 = load<f64>(p + 48);
  const c21 = load<f64>(p + 56);
  // shifts of the old set (a) and the new point (b) to the merged means
  const inv = 1 / n;
  const aa = -dt * inv;
  const ab = -dv * inv;
  const ba = dt * n0 * inv;
  const bb = dv * n0 * inv;
  const aa2 = aa * aa;
  const ba2 = ba * ba;
  store<f64>(p, n);
  store<f64>(p + 8, load<f64>(p + 8) - aa);
  store<f64>(p + 16, load<f64>(p + 16) - ab);
  store<f64>(p + 24, s2 + aa2 * n0 + ba2);
  store<f64>(p + 32, c11 + aa * ab * n0 + ba * bb);
  store<f64>(p + 40, s3 + 3 * aa * s2 + aa2 * aa * n0 + ba2 * ba);
  store<f64>(p + 48, s4 + 4 * aa * s3 + 6 * aa2 * s2 + aa2 * aa2 * n0 + ba2 * ba2);
  store<f64>(p + 56, c21 + ab * s2 + 2 * aa * c11 + aa2 * ab * n0 + ba2 * bb);
  // distinct timestamps: min, max and whether one strictly between them occurred
  if (n0 == 0) {
    store<f64>(p + 64, ts);
    store<f64>(p + 72, ts);
    return;
  }
  const lo = load<f64>(p + 64);
  const hi = load<f64>(p + 72);
  if (ts < lo) {
    if (lo < hi) store<f64>(p + 80, 1);
    store<f64>(p + 64, ts);
  } else if (ts > hi) {
    if (lo < hi) store<f64>(p + 80, 1);
    store<f64>(p + 72, ts);
  } else if (ts > lo && ts < hi) {
    store<f64>(p + 80, 1);
  }
}
