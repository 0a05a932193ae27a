// The value FIFO of a window cache (window-cache.ts). GF_FIFO groups (encode-plan.ts:
// rules read them, their blocks are counts, sums and min/max) keep one after the cache
// trailer (CT_FIFO): on a sparse stream the bucket that leaves a sliding window was written
// minutes earlier, and reading its ring record was the rules path's largest cost
// (docs/rule-vm.md). A bucket that holds one value v is
// the record (count 1, n 1, sum 0 + v, min = max = v), and one of two values a, b is too
// (count 2, sum (0 + a) + b, min and max of the two), so the FIFO keeps the values of the
// newest occupied buckets, oldest first, in FIFO_K entries of the hot prefix, and the second
// values of up to FIFO_SECONDS of them:
//   FH_HEAD    position of the oldest entry,
//   FH_COUNT   k, entries,
//   FH_MISSING m, oldest occupied buckets with no entry (m + k = occupied buckets),
//   FH_MULTI   bit p: the bucket at position p is read from its ring record (a third
//              value, a second with no free slot, or a NaN),
//   FH_NEWEST  1 << position of the last entry appended: only the newest bucket gets more
//              values (an entry appended has no owner and no multi bit),
//   FH_OWNER   per second-value slot, 1 + the position whose second value it holds (0:
//              free); freed when that entry leaves, gets a third value or its position is
//              reused.
// In bucket order, occupied bucket j ≥ m sits at position (head + j − m) mod FIFO_K. A new
// newest bucket is appended (the oldest entry becomes "missing" when the FIFO is full); a
// fill, or an event into an earlier bucket than the newest (late), leaves every bucket to
// the ring (m = occupied, k = 0, every slot free); take-outs (window-cache.ts) remove the
// oldest. The compiled upkeep keeps it byte for byte as here (rules-jit/fifo-ops.ts).

import { FIFO_K, FIFO_SECONDS, FIFO_VALUES, FIFO_SECOND_VALUES, FH_COUNT, FH_MULTI, FH_NEWEST, FH_OWNER } from '../layout';

/** FIFO_K as a u32 (positions are u32). */
export const FK = <u32>FIFO_K;

/** A FIFO header word: head, count, missing, multi bits (one byte each, FH_*); stored as a u64, newest and owners 0. */
// @ts-ignore: decorator
@inline
export function fifoHeader(head: u32, count: u32, missing: u32, multi: u32): u32 {
  return head | (count << 8) | (missing << 16) | (multi << 24);
}

/** The second-value slot that FIFO position `p` owns, or −1. */
// @ts-ignore: decorator
@inline
export function fifoSecond(f: usize, p: u32): i32 {
  const o = p + 1;
  return <u32>load<u8>(f + FH_OWNER) == o ? 0 : <u32>load<u8>(f + FH_OWNER + 1) == o ? 1 : -1;
}

/**
 * The value FIFO `f` after value `v` went into the cached window's ring slot `bit` (`occ`:
 * the occupied slots before it); `newest`: the event is in the window's last bucket.
 */
export function fifoAdded(f: usize, occ: u64, bit: u64, v: f64, newest: bool): void {
  // into an earlier bucket (a late event): no entry is kept, every bucket reads its ring
  if (!newest) { store<u64>(f, fifoHeader(0, 0, <u32>popcnt(occ | bit), 0)); return; }
  if ((occ & bit) != 0) {
    // one more value in the newest bucket (the last entry, when there is one)
    const nm = <u32>load<u8>(f + FH_NEWEST), multi = <u32>load<u8>(f + FH_MULTI);
    if (load<u8>(f + FH_COUNT) == 0 || (multi & nm) != 0) return;
    const p = <u32>ctz(nm);
    const sec = fifoSecond(f, p);
    if (sec < 0 && v == v) {
      // its second: kept in a free second-value slot
      for (let i: u32 = 0; i < <u32>FIFO_SECONDS; i++) {
        if (load<u8>(f + FH_OWNER + i) != 0) continue;
        store<f64>(f + FIFO_SECOND_VALUES + (<usize>i << 3), v);
        store<u8>(f + FH_OWNER + i, <u8>(p + 1));
        return;
      }
    }
    // a third value, a second with no free slot, or a NaN: the ring record counts from now on
    if (sec >= 0) store<u8>(f + FH_OWNER + sec, 0);
    store<u8>(f + FH_MULTI, <u8>(multi | nm));
    return;
  }
  const hd = load<u32>(f);
  let head = hd & 0xff, k = (hd >> 8) & 0xff, missing = (hd >> 16) & 0xff;
  const multi = hd >>> 24;
  let p: u32;
  if (k < FK) {
    p = head + k;
    if (p >= FK) p -= FK;
    k++;
  } else {
    // full: the oldest entry's bucket is read from its ring from now on
    p = head;
    head = head == FK - 1 ? 0 : head + 1;
    missing++;
    // the second value of that entry, if it had one, is freed (only here can a slot
    // outlive its entry: take-outs, third values and resets free theirs)
    const sec = fifoSecond(f, p);
    if (sec >= 0) store<u8>(f + FH_OWNER + sec, 0);
  }
  store<f64>(f + FIFO_VALUES + (<usize>p << 3), v);
  store<u8>(f + FH_NEWEST, <u8>(<u32>1 << p));
  // a NaN makes a record whose min and max stay at their identities: not a single value
  store<u32>(f, fifoHeader(head, k, missing, (multi & ~(1 << p)) | (<u32>(v != v) << p)));
}

/**
 * The FIFO position of occupied bucket `j` (bucket order; `hd` the FIFO header) when its
 * entry describes it; −1 when its ring record must be read (missing, or multi).
 */
// @ts-ignore: decorator
@inline
export function fifoPos(hd: u32, j: u32): i32 {
  const missing = (hd >> 16) & 0xff;
  if (j < missing) return -1;
  let p = (hd & 0xff) + j - missing;
  if (p >= FK) p -= FK;
  return ((hd >>> (24 + p)) & 1) != 0 ? -1 : <i32>p;
}
