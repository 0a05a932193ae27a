// The window-cache operations of assembly/kernel/window-cache.ts (slideCache, takeOut,
// mergeExtremes, emptyCache, cacheAdded) and blocks.ts addEvent as WebAssembly for one
// *sliding* group at a time, with the group's bucket width, ring size, block offsets and
// record layout as constants. The compiled upkeep (upkeep.ts) and the evaluator's sync of a
// cache τ has moved past (emitter.ts) both use them. Every operation is the kernel's, in
// the kernel's order and with the kernel's arithmetic, so both leave the same bytes
// (test/rules-jit.test.ts).
import * as L from '../../../assembly/layout.js';
import { F64, FunctionBody, I32, I64, Op, type ValType } from '../wasm-writer.js';
import type { Group } from './read-program.js';
import { DamperError } from '../../errors.js';

/** The device block: parameter 0 of both compiled functions. */
const P_DEV = 0;
export const ID_TAG = -(2n ** 63n);
export const has = (g: Group, b: number): boolean => (g.mask & (1 << b)) !== 0;
/** True for a group with a value FIFO (encode-plan.ts, window-fifo.ts); its offset in the device block. */
const hasFifo = (g: Group): boolean => (g.flags & L.GF_FIFO) !== 0;
const fifoOf = (g: Group): number => g.cache + g.recBytes + L.CT_FIFO;
/** Blocks a sliding group may have (GF_SLIDES rules out moments and fits). */
const SLIDING_BLOCKS = (1 << L.BLK_CNT) | (1 << L.BLK_SUM) | (1 << L.BLK_MINMAX) | (1 << L.BLK_FIRSTLAST) | (1 << L.BLK_RFIT);

/** True for a group whose cache the compiled code slides; throws for one it could not. */
export function compiledSlides(g: Group): boolean {
  if ((g.flags & L.GF_SLIDES) === 0) return false;
  if ((g.mask & ~SLIDING_BLOCKS) !== 0 || g.nb > 64) {
    throw new DamperError('DAMPER_ERR_RULES_JIT', `rules compiler: group ${g.index} slides with blocks 0x${g.mask.toString(16)} over ${g.nb} buckets`);
  }
  return true;
}

/** Cache operations on locals of the function being emitted. */
export class CacheEmitter {
  /** The tagged bucket of the record (set by the caller before `slide`). */
  readonly from: number;
  /** The bucket to slide to (set by the caller before `slide`). */
  readonly to: number;
  /** 1 after `slide` while the record is live; a slide backwards drops it (0). */
  readonly live: number;
  private readonly q: number;
  private readonly m: number;
  private readonly first: number;
  private readonly leaving: number;
  private readonly occ: number;
  private readonly sel: number;
  private readonly rest: number;
  private readonly addr: number;
  private readonly ext: number;
  private readonly tmp: number;
  // the value FIFO (window-fifo.ts): header fields, the walk's bucket rank and position
  private readonly bits: number;
  private readonly slot: number;
  private readonly head: number;
  private readonly count: number;
  private readonly missing: number;
  private readonly multi: number;
  private readonly rank: number;
  private readonly pos: number;
  private readonly val: number;
  // an entry's second-value slot (−1: none) and the record it stands for: min, max, count, sum
  private readonly sec: number;
  private readonly lo: number;
  private readonly hi: number;
  private readonly k1: number;
  private readonly s1: number;
  private readonly acc: { cnt: number; n: number; sum: number; drift: number; mn: number; mx: number; ft: number; fv: number; lt: number; lv: number };

  constructor(private readonly fn: FunctionBody) {
    const l = (t: ValType): number => fn.local(t);
    this.from = l(I64); this.to = l(I64); this.live = l(I32);
    this.q = l(F64); this.m = l(I64); this.first = l(I64); this.leaving = l(I64);
    this.occ = l(I64); this.sel = l(I64); this.rest = l(I64); this.addr = l(I32); this.ext = l(I32); this.tmp = l(F64);
    this.bits = l(I64); this.slot = l(I64);
    this.head = l(I32); this.count = l(I32); this.missing = l(I32); this.multi = l(I32); this.rank = l(I32); this.pos = l(I32); this.val = l(F64);
    this.sec = l(I32); this.lo = l(F64); this.hi = l(F64); this.k1 = l(F64); this.s1 = l(F64);
    this.acc = { cnt: l(F64), n: l(F64), sum: l(F64), drift: l(F64), mn: l(F64), mx: l(F64), ft: l(F64), fv: l(F64), lt: l(F64), lv: l(F64) };
  }

  /** floor(x / d) from 1/d with the kernel's correction steps (groups.ts floorDiv): local `x` into local `out`. */
  floorDiv(x: number, d: number, inv: number, out: number): void {
    const fn = this.fn;
    fn.get(x).f64(inv).op(Op.f64Mul).op(Op.f64Floor).set(out);
    fn.block().loop().get(out).f64(d).op(Op.f64Mul).get(x).op(Op.f64Gt).op(Op.i32Eqz).brIf(1)
      .get(out).f64(1).op(Op.f64Sub).set(out).br(0).end().end();
    fn.block().loop().get(out).f64(1).op(Op.f64Add).f64(d).op(Op.f64Mul).get(x).op(Op.f64Le).op(Op.i32Eqz).brIf(1)
      .get(out).f64(1).op(Op.f64Add).set(out).br(0).end().end();
  }

  /**
   * slideCache of group `g` from bucket `from` to `to` (locals set by the caller): `s0`
   * pushes the ring slot of bucket from − nb + 1 when the caller knows it cheaper, else null
   * (ringSlot). Sets `live`.
   */
  slide(g: Group, s0: (() => void) | null): void {
    const fn = this.fn;
    const c = g.cache, t = g.cache + g.recBytes;
    fn.i32(1).set(this.live);
    fn.get(this.to).get(this.from).op(Op.i64LtS).if();
    fn.get(P_DEV).i64(0n).mem(Op.i64Store, c).i32(0).set(this.live);
    fn.else();
    fn.get(P_DEV).get(this.to).i64(ID_TAG).op(Op.i64Xor).mem(Op.i64Store, c);
    fn.get(this.to).get(this.from).op(Op.i64Sub).tee(this.m).i64(BigInt(g.nb)).op(Op.i64GeS).if();
    // the whole window left: the new one holds nothing yet
    this.emptyCache(g);
    fn.else();
    if (s0) s0();
    else this.ringSlot(g);
    fn.set(this.first);
    this.slotRange(g.nb);
    // most slides in a sparse stream cross only empty buckets; when every occupied bucket
    // leaves, the record is emptied without reading them
    fn.get(P_DEV).mem(Op.i64Load, t + L.CT_OCCUPIED).tee(this.occ).get(this.leaving).op(Op.i64And).tee(this.sel).op(Op.i64Eqz).op(Op.i32Eqz).if();
    fn.get(this.occ).get(this.leaving).i64(-1n).op(Op.i64Xor).op(Op.i64And).tee(this.rest).op(Op.i64Eqz).if();
    this.emptyCache(g);
    fn.else();
    fn.get(P_DEV).get(this.rest).mem(Op.i64Store, t + L.CT_OCCUPIED);
    this.takeOut(g);
    fn.end().end(); // rest, sel
    fn.end(); // m ≥ nb
    fn.end(); // to < from
  }

  /** Pushes ringSlot(from − nb + 1, nb) (groups.ts), in f64 as the kernel. */
  ringSlot(g: Group): void {
    this.fn.get(this.from).i64(BigInt(g.nb)).op(Op.i64Sub).i64(1n).op(Op.i64Add).op(Op.f64ConvertI64S).tee(this.q)
      .get(this.q).f64(g.nb).op(Op.f64Div).op(Op.f64Floor).f64(g.nb).op(Op.f64Mul).op(Op.f64Sub).i64TruncSatF64S();
  }

  /** leaving = bits first … first + m − 1 (mod nb), window-cache.ts slotRange. */
  private slotRange(nb: number): void {
    const fn = this.fn;
    const n = BigInt(nb);
    fn.get(this.first).get(this.m).op(Op.i64Add).i64(n).op(Op.i64LeS).if(I64);
    fn.i64(1n).get(this.m).op(Op.i64Shl).i64(1n).op(Op.i64Sub).get(this.first).op(Op.i64Shl);
    fn.else();
    fn.i64(1n).i64(n).get(this.first).op(Op.i64Sub).op(Op.i64Shl).i64(1n).op(Op.i64Sub).get(this.first).op(Op.i64Shl)
      .i64(1n).get(this.first).get(this.m).op(Op.i64Add).i64(n).op(Op.i64Sub).op(Op.i64Shl).i64(1n).op(Op.i64Sub).op(Op.i64Or);
    fn.end().set(this.leaving);
  }

  /** emptyCache: the record reset (resetRecord), drift and occupancy zero. */
  private emptyCache(g: Group): void {
    const fn = this.fn;
    const c = g.cache;
    for (let o = 8; o < g.recBytes; o += 8) fn.get(P_DEV).i64(0n).mem(Op.i64Store, c + o);
    if (has(g, L.BLK_MINMAX)) {
      const p = c + g.blockOff[L.BLK_MINMAX];
      fn.get(P_DEV).f64(Infinity).mem(Op.f64Store, p).get(P_DEV).f64(-Infinity).mem(Op.f64Store, p + 8);
    }
    if (has(g, L.BLK_FIRSTLAST)) {
      const p = c + g.blockOff[L.BLK_FIRSTLAST];
      fn.get(P_DEV).f64(Infinity).mem(Op.f64Store, p).get(P_DEV).f64(-Infinity).mem(Op.f64Store, p + 16);
    }
    fn.get(P_DEV).i64(0n).mem(Op.i64Store, c + g.recBytes + L.CT_DRIFT).get(P_DEV).i64(0n).mem(Op.i64Store, c + g.recBytes + L.CT_OCCUPIED);
    if (hasFifo(g)) fn.get(P_DEV).i64(0n).mem(Op.i64Store, fifoOf(g));
  }

  /** `bits` := local `x` rotated so that ring slot `first` is bit 0 (window-cache.ts fromSlot: bucket order). */
  private fromSlot(x: number, nb: number): void {
    const fn = this.fn;
    fn.get(x).get(this.first).op(Op.i64ShrU).get(x).i64(BigInt(nb)).get(this.first).op(Op.i64Sub).op(Op.i64Shl).op(Op.i64Or);
    if (nb < 64) fn.i64((1n << BigInt(nb)) - 1n).op(Op.i64And);
    fn.set(this.bits);
  }

  /** Opens the walk of `bits` in bucket order: block, loop, exit when empty, `slot` := the next bucket's ring slot. */
  private walk(nb: number): void {
    const fn = this.fn;
    fn.block().loop();
    fn.get(this.bits).op(Op.i64Eqz).brIf(1);
    fn.get(this.first).get(this.bits).op(Op.i64Ctz).op(Op.i64Add).tee(this.slot).i64(BigInt(nb)).op(Op.i64GeS)
      .if().get(this.slot).i64(BigInt(nb)).op(Op.i64Sub).set(this.slot).end();
    fn.get(this.bits).get(this.bits).i64(1n).op(Op.i64Sub).op(Op.i64And).set(this.bits);
  }

  // The FIFO header is read and written a byte field at a time (FH_*): the same bytes as
  // the kernel's fifoHeader word, in fewer instructions than packing it.
  /** Local `to` := header byte `field` of group `g`'s FIFO. */
  private fifoGet(g: Group, field: number, to: number): void {
    this.fn.get(P_DEV).mem(Op.i32Load8U, fifoOf(g) + field).set(to);
  }

  /** Header byte `field` of group `g`'s FIFO := local `from`. */
  private fifoPut(g: Group, field: number, from: number): void {
    this.fn.get(P_DEV).get(from).mem(Op.i32Store8, fifoOf(g) + field);
  }

  /** pos := (head + rank − missing) mod FIFO_K (rank ≥ missing). */
  private fifoPos(): void {
    const fn = this.fn;
    fn.get(this.head).get(this.rank).op(Op.i32Add).get(this.missing).op(Op.i32Sub).tee(this.pos).i32(L.FIFO_K).op(Op.i32GeU)
      .if().get(this.pos).i32(L.FIFO_K).op(Op.i32Sub).set(this.pos).end();
  }

  /** val := fifoValue of occupied bucket `rank` (NaN: read its ring record), then rank + 1. */
  private fifoValue(g: Group): void {
    const fn = this.fn;
    fn.get(this.rank).get(this.missing).op(Op.i32LtU).if(F64).f64(NaN).else();
    this.fifoPos();
    fn.get(this.multi).get(this.pos).op(Op.i32ShrU).i32(1).op(Op.i32And)
      .if(F64).f64(NaN).else().get(this.pos).i32(3).op(Op.i32Shl).get(P_DEV).op(Op.i32Add).mem(Op.f64Load, fifoOf(g) + L.FIFO_VALUES).end();
    fn.end().set(this.val);
    fn.get(this.rank).i32(1).op(Op.i32Add).set(this.rank);
  }

  /** sec := the second-value slot that position `pos` owns, or −1 (fifoSecond). */
  private fifoSecond(g: Group): void {
    const fn = this.fn;
    for (let i = 0; i < L.FIFO_SECONDS; i++) {
      fn.get(P_DEV).mem(Op.i32Load8U, fifoOf(g) + L.FH_OWNER + i).get(this.pos).i32(1).op(Op.i32Add).op(Op.i32Eq).if(I32).i32(i).else();
    }
    fn.i32(-1);
    for (let i = 0; i < L.FIFO_SECONDS; i++) fn.end();
    fn.set(this.sec);
  }

  /** Frees second-value slot `sec` (a local). */
  private freeSecond(g: Group): void {
    this.fn.get(this.sec).get(P_DEV).op(Op.i32Add).i32(0).mem(Op.i32Store8, fifoOf(g) + L.FH_OWNER);
  }

  /**
   * lo, hi (and k1, s1 when `counts`) := the min, max (count, sum) of the record that FIFO
   * entry `pos` with value `val` stands for: one value, or two with its second-value slot
   * (sec := it, −1 without; freed when `free`).
   */
  private entryRecord(g: Group, counts: boolean, free: boolean): void {
    const fn = this.fn;
    fn.get(this.val).tee(this.lo).set(this.hi);
    if (counts) fn.f64(1).set(this.k1).get(this.val).f64(0).op(Op.f64Add).set(this.s1);
    this.fifoSecond(g);
    fn.get(this.sec).i32(-1).op(Op.i32Ne).if();
    fn.get(this.sec).i32(3).op(Op.i32Shl).get(P_DEV).op(Op.i32Add).mem(Op.f64Load, fifoOf(g) + L.FIFO_SECOND_VALUES).set(this.tmp);
    fn.get(this.tmp).get(this.lo).op(Op.f64Lt).if().get(this.tmp).set(this.lo).end();
    fn.get(this.tmp).get(this.hi).op(Op.f64Gt).if().get(this.tmp).set(this.hi).end();
    if (counts) fn.f64(2).set(this.k1).get(this.s1).get(this.tmp).op(Op.f64Add).set(this.s1);
    if (free) this.freeSecond(g);
    fn.end();
  }

  /** Address of the ring record in slot `slot` (an i64 on the stack) into local `addr`. */
  private ringRecord(g: Group): void {
    this.fn.op(Op.i32WrapI64).i32(g.recBytes).op(Op.i32Mul).get(P_DEV).op(Op.i32Add).set(this.addr);
  }

  /** takeOut of ring slots `sel` (window-cache.ts), `rest` the slots that stay. */
  private takeOut(g: Group): void {
    const fn = this.fn;
    const a = this.acc;
    const c = g.cache, t = g.cache + g.recBytes, ring = g.stateOff + L.GROUP_HEADER_BYTES;
    const oCnt = g.blockOff[L.BLK_CNT], oSum = g.blockOff[L.BLK_SUM], oMm = g.blockOff[L.BLK_MINMAX], oFl = g.blockOff[L.BLK_FIRSTLAST];
    const hasCnt = has(g, L.BLK_CNT), hasSum = has(g, L.BLK_SUM), hasFl = has(g, L.BLK_FIRSTLAST);
    const readsMin = has(g, L.BLK_MINMAX) && (g.flags & L.GF_READS_MIN) !== 0;
    const readsMax = has(g, L.BLK_MINMAX) && (g.flags & L.GF_READS_MAX) !== 0;
    if (hasCnt) fn.get(P_DEV).mem(Op.f64Load, c + oCnt).set(a.cnt);
    if (hasSum) {
      fn.get(P_DEV).mem(Op.f64Load, c + oSum).set(a.n).get(P_DEV).mem(Op.f64Load, c + oSum + 8).set(a.sum);
      fn.get(P_DEV).mem(Op.f64Load, t + L.CT_DRIFT).op(Op.f64Abs).set(a.drift);
    }
    if (readsMin) fn.get(P_DEV).mem(Op.f64Load, c + oMm).set(a.mn);
    if (readsMax) fn.get(P_DEV).mem(Op.f64Load, c + oMm + 8).set(a.mx);
    if (hasFl) fn.get(P_DEV).mem(Op.f64Load, c + oFl).set(a.ft).get(P_DEV).mem(Op.f64Load, c + oFl + 16).set(a.lt);
    const extremes = readsMin || readsMax || hasFl;
    const fifo = hasFifo(g);
    if (extremes) fn.i32(0).set(this.ext);
    if (fifo) {
      this.fifoGet(g, L.FH_HEAD, this.head);
      this.fifoGet(g, L.FH_MISSING, this.missing);
      this.fifoGet(g, L.FH_MULTI, this.multi);
      fn.i32(0).set(this.rank);
    }
    // oldest first; a bucket with a FIFO entry is taken out as the record of its one or
    // two values (count, n, sum (0 + a) + b, min, max), without its ring record
    this.fromSlot(this.sel, g.nb);
    this.walk(g.nb);
    if (fifo) {
      this.fifoValue(g);
      fn.get(this.val).get(this.val).op(Op.f64Eq).if();
      this.entryRecord(g, true, true);
      if (readsMin) fn.get(this.lo).get(a.mn).op(Op.f64Le).get(this.ext).op(Op.i32Or).set(this.ext);
      if (readsMax) fn.get(this.hi).get(a.mx).op(Op.f64Ge).get(this.ext).op(Op.i32Or).set(this.ext);
      if (hasCnt) fn.get(a.cnt).get(this.k1).op(Op.f64Sub).set(a.cnt);
      if (hasSum) {
        fn.get(a.n).get(this.k1).op(Op.f64Sub).set(a.n);
        fn.get(a.drift).get(a.sum).get(this.s1).op(Op.f64Sub).tee(a.sum)
          .op(Op.f64Abs).f64(L.SUM_ROUNDING).op(Op.f64Mul).op(Op.f64Add).set(a.drift);
      }
      fn.br(1).end();
    }
    fn.get(this.slot);
    this.ringRecord(g);
    // a leaving bucket that holds a cached extreme: merge them again from the rest
    if (readsMin) fn.get(this.addr).mem(Op.f64Load, ring + oMm).get(a.mn).op(Op.f64Le).get(this.ext).op(Op.i32Or).set(this.ext);
    if (readsMax) fn.get(this.addr).mem(Op.f64Load, ring + oMm + 8).get(a.mx).op(Op.f64Ge).get(this.ext).op(Op.i32Or).set(this.ext);
    if (hasFl) {
      fn.get(this.addr).mem(Op.f64Load, ring + oFl).get(a.ft).op(Op.f64Le)
        .get(this.addr).mem(Op.f64Load, ring + oFl + 16).get(a.lt).op(Op.f64Ge).op(Op.i32Or).get(this.ext).op(Op.i32Or).set(this.ext);
    }
    if (hasCnt) fn.get(a.cnt).get(this.addr).mem(Op.f64Load, ring + oCnt).op(Op.f64Sub).set(a.cnt);
    if (hasSum) {
      fn.get(a.n).get(this.addr).mem(Op.f64Load, ring + oSum).op(Op.f64Sub).set(a.n);
      fn.get(a.drift).get(a.sum).get(this.addr).mem(Op.f64Load, ring + oSum + 8).op(Op.f64Sub).tee(a.sum)
        .op(Op.f64Abs).f64(L.SUM_ROUNDING).op(Op.f64Mul).op(Op.f64Add).set(a.drift);
    }
    fn.br(0).end().end();
    if (hasCnt) fn.get(P_DEV).get(a.cnt).mem(Op.f64Store, c + oCnt);
    if (hasSum) {
      fn.get(P_DEV).get(a.n).mem(Op.f64Store, c + oSum).get(P_DEV).get(a.sum).mem(Op.f64Store, c + oSum + 8);
      fn.get(P_DEV).get(a.drift).mem(Op.f64Store, t + L.CT_DRIFT);
    }
    if (fifo) {
      // the leaving buckets are the oldest: first the missing ones, then the oldest entries
      // (pos: how many left, then how many entries)
      fn.get(this.sel).op(Op.i64Popcnt).op(Op.i32WrapI64).set(this.pos);
      fn.get(this.missing).get(this.pos).op(Op.i32LtU).if();
      fn.get(this.pos).get(this.missing).op(Op.i32Sub).set(this.pos).i32(0).set(this.missing);
      fn.get(this.head).get(this.pos).op(Op.i32Add).tee(this.head).i32(L.FIFO_K).op(Op.i32GeU)
        .if().get(this.head).i32(L.FIFO_K).op(Op.i32Sub).set(this.head).end();
      this.fifoPut(g, L.FH_HEAD, this.head);
      fn.get(P_DEV).get(P_DEV).mem(Op.i32Load8U, fifoOf(g) + L.FH_COUNT).get(this.pos).op(Op.i32Sub).mem(Op.i32Store8, fifoOf(g) + L.FH_COUNT);
      fn.else().get(this.missing).get(this.pos).op(Op.i32Sub).set(this.missing).end();
      this.fifoPut(g, L.FH_MISSING, this.missing);
    }
    if (extremes) {
      fn.get(this.ext).if();
      this.mergeExtremes(g);
      fn.end();
    }
  }

  /**
   * mergeExtremes: min/max and first/last of the cache again from the occupied slots `rest`
   * (identities first, then foldExtremes per slot, its strict comparisons in slot order).
   */
  private mergeExtremes(g: Group): void {
    const fn = this.fn;
    const a = this.acc;
    const c = g.cache, ring = g.stateOff + L.GROUP_HEADER_BYTES;
    const hasMm = has(g, L.BLK_MINMAX), hasFl = has(g, L.BLK_FIRSTLAST);
    const oMm = g.blockOff[L.BLK_MINMAX], oFl = g.blockOff[L.BLK_FIRSTLAST];
    if (hasMm) fn.f64(Infinity).set(a.mn).f64(-Infinity).set(a.mx);
    // first/last values start as the identities' zeroes (resetBlock zeroes the block)
    if (hasFl) fn.f64(Infinity).set(a.ft).f64(0).set(a.fv).f64(-Infinity).set(a.lt).f64(0).set(a.lv);
    // oldest first, the FIFO header as the take-out left it (a FIFO group has min/max and
    // no first/last: an entry folds as the record of its one or two values)
    this.fromSlot(this.rest, g.nb);
    if (hasFifo(g)) fn.i32(0).set(this.rank);
    this.walk(g.nb);
    if (hasFifo(g)) {
      this.fifoValue(g);
      fn.get(this.val).get(this.val).op(Op.f64Eq).if();
      this.entryRecord(g, false, false);
      fn.get(this.lo).get(a.mn).op(Op.f64Lt).if().get(this.lo).set(a.mn).end();
      fn.get(this.hi).get(a.mx).op(Op.f64Gt).if().get(this.hi).set(a.mx).end();
      fn.br(1).end();
    }
    fn.get(this.slot);
    this.ringRecord(g);
    const fold = (off: number, acc: number, cmp: number, then?: [number, number]): void => {
      fn.get(this.addr).mem(Op.f64Load, ring + off).tee(this.tmp).get(acc).op(cmp).if().get(this.tmp).set(acc);
      if (then) fn.get(this.addr).mem(Op.f64Load, ring + then[0]).set(then[1]);
      fn.end();
    };
    if (hasMm) { fold(oMm, a.mn, Op.f64Lt); fold(oMm + 8, a.mx, Op.f64Gt); }
    if (hasFl) { fold(oFl, a.ft, Op.f64Lt, [oFl + 8, a.fv]); fold(oFl + 16, a.lt, Op.f64Gt, [oFl + 24, a.lv]); }
    fn.br(0).end().end();
    if (hasMm) fn.get(P_DEV).get(a.mn).mem(Op.f64Store, c + oMm).get(P_DEV).get(a.mx).mem(Op.f64Store, c + oMm + 8);
    if (hasFl) {
      fn.get(P_DEV).get(a.ft).mem(Op.f64Store, c + oFl).get(P_DEV).get(a.fv).mem(Op.f64Store, c + oFl + 8)
        .get(P_DEV).get(a.lt).mem(Op.f64Store, c + oFl + 16).get(P_DEV).get(a.lv).mem(Op.f64Store, c + oFl + 24);
    }
  }

  /** addEvent (blocks.ts) of value `v` at time `ts` (locals) to the cache record, for the blocks a sliding group has. */
  addEvent(g: Group, ts: number, v: number): void {
    const fn = this.fn;
    const c = g.cache;
    const inc = (p: number): void => { fn.get(P_DEV).get(P_DEV).mem(Op.f64Load, p).f64(1).op(Op.f64Add).mem(Op.f64Store, p); };
    if (has(g, L.BLK_CNT)) inc(c + g.blockOff[L.BLK_CNT]);
    if (has(g, L.BLK_SUM)) {
      const p = c + g.blockOff[L.BLK_SUM];
      inc(p);
      fn.get(P_DEV).get(P_DEV).mem(Op.f64Load, p + 8).get(v).op(Op.f64Add).mem(Op.f64Store, p + 8);
    }
    if (has(g, L.BLK_MINMAX)) {
      const p = c + g.blockOff[L.BLK_MINMAX];
      fn.get(v).get(P_DEV).mem(Op.f64Load, p).op(Op.f64Lt).if().get(P_DEV).get(v).mem(Op.f64Store, p).end();
      fn.get(v).get(P_DEV).mem(Op.f64Load, p + 8).op(Op.f64Gt).if().get(P_DEV).get(v).mem(Op.f64Store, p + 8).end();
    }
    if (has(g, L.BLK_FIRSTLAST)) {
      // earliest: smallest ts, ties keep the first arrival; latest: greatest ts, ties take the latest arrival
      const p = c + g.blockOff[L.BLK_FIRSTLAST];
      fn.get(ts).get(P_DEV).mem(Op.f64Load, p).op(Op.f64Lt).if()
        .get(P_DEV).get(ts).mem(Op.f64Store, p).get(P_DEV).get(v).mem(Op.f64Store, p + 8).end();
      fn.get(ts).get(P_DEV).mem(Op.f64Load, p + 16).op(Op.f64Ge).if()
        .get(P_DEV).get(ts).mem(Op.f64Store, p + 16).get(P_DEV).get(v).mem(Op.f64Store, p + 24).end();
    }
    if (has(g, L.BLK_RFIT)) inc(c + g.blockOff[L.BLK_RFIT]);
  }

  /**
   * cacheAdded (window-cache.ts): ring slot `slot` (f64 local) is occupied; the rounding of
   * the cache's sum and of the bucket's (local `bucketSum`, after the event) counts in the drift.
   */
  cacheAdded(g: Group, slot: number, bucketSum: number, v: number, newest: () => void): void {
    const fn = this.fn;
    const t = g.cache + g.recBytes;
    // occ: the occupied slots before the event, sel: its slot's bit
    fn.get(P_DEV).mem(Op.i64Load, t + L.CT_OCCUPIED).set(this.occ).i64(1n).get(slot).i64TruncSatF64S().op(Op.i64Shl).set(this.sel);
    fn.get(P_DEV).get(this.occ).get(this.sel).op(Op.i64Or).mem(Op.i64Store, t + L.CT_OCCUPIED);
    if (has(g, L.BLK_SUM)) {
      fn.get(P_DEV).get(P_DEV).mem(Op.f64Load, t + L.CT_DRIFT).op(Op.f64Abs)
        .get(P_DEV).mem(Op.f64Load, g.cache + g.blockOff[L.BLK_SUM] + 8).op(Op.f64Abs).get(bucketSum).op(Op.f64Abs).op(Op.f64Add)
        .f64(L.SUM_ROUNDING).op(Op.f64Mul).op(Op.f64Add).mem(Op.f64Store, t + L.CT_DRIFT);
    }
    if (hasFifo(g)) this.fifoAdded(g, v, newest);
  }

  /** fifoAdded (window-fifo.ts) of value `v` (local), `occ`/`sel` as cacheAdded left them; `newest` pushes the i32 condition. */
  private fifoAdded(g: Group, v: number, newest: () => void): void {
    const fn = this.fn;
    const K = L.FIFO_K;
    newest();
    fn.if();
    fn.get(this.occ).get(this.sel).op(Op.i64And).op(Op.i64Eqz).if();
    this.fifoGet(g, L.FH_HEAD, this.head);
    this.fifoGet(g, L.FH_COUNT, this.count);
    // a new newest bucket: appended (when full, the oldest entry becomes missing)
    fn.get(this.count).i32(K).op(Op.i32LtU).if();
    fn.get(this.head).get(this.count).op(Op.i32Add).tee(this.pos).i32(K).op(Op.i32GeU).if().get(this.pos).i32(K).op(Op.i32Sub).set(this.pos).end();
    fn.get(P_DEV).get(this.count).i32(1).op(Op.i32Add).mem(Op.i32Store8, fifoOf(g) + L.FH_COUNT);
    fn.else();
    fn.get(this.head).set(this.pos);
    fn.get(this.head).i32(1).op(Op.i32Add).tee(this.head).i32(K).op(Op.i32GeU).if().i32(0).set(this.head).end();
    this.fifoPut(g, L.FH_HEAD, this.head);
    fn.get(P_DEV).get(P_DEV).mem(Op.i32Load8U, fifoOf(g) + L.FH_MISSING).i32(1).op(Op.i32Add).mem(Op.i32Store8, fifoOf(g) + L.FH_MISSING);
    fn.end();
    fn.get(this.pos).i32(3).op(Op.i32Shl).get(P_DEV).op(Op.i32Add).get(v).mem(Op.f64Store, fifoOf(g) + L.FIFO_VALUES);
    fn.get(P_DEV).i32(1).get(this.pos).op(Op.i32Shl).mem(Op.i32Store8, fifoOf(g) + L.FH_NEWEST);
    fn.get(P_DEV).get(P_DEV).mem(Op.i32Load8U, fifoOf(g) + L.FH_MULTI).i32(1).get(this.pos).op(Op.i32Shl).i32(-1).op(Op.i32Xor).op(Op.i32And)
      .get(v).get(v).op(Op.f64Ne).get(this.pos).op(Op.i32Shl).op(Op.i32Or).mem(Op.i32Store8, fifoOf(g) + L.FH_MULTI);
    // a second value the position's previous entry left behind (it went missing) is freed
    this.fifoSecond(g);
    fn.get(this.sec).i32(-1).op(Op.i32Ne).if();
    this.freeSecond(g);
    fn.end();
    fn.else();
    // one more value in the newest bucket (the last entry, when there is one; `head` holds
    // the newest position's bit here)
    this.fifoGet(g, L.FH_NEWEST, this.head);
    this.fifoGet(g, L.FH_MULTI, this.multi);
    fn.block();
    fn.get(P_DEV).mem(Op.i32Load8U, fifoOf(g) + L.FH_COUNT).op(Op.i32Eqz).get(this.multi).get(this.head).op(Op.i32And).op(Op.i32Or).brIf(0);
    fn.get(this.head).op(Op.i32Ctz).set(this.pos);
    this.fifoSecond(g);
    // its second: kept in a free second-value slot
    fn.get(this.sec).i32(-1).op(Op.i32Eq).get(v).get(v).op(Op.f64Eq).op(Op.i32And).if();
    for (let i = 0; i < L.FIFO_SECONDS; i++) {
      fn.get(P_DEV).mem(Op.i32Load8U, fifoOf(g) + L.FH_OWNER + i).op(Op.i32Eqz).if();
      fn.get(P_DEV).get(v).mem(Op.f64Store, fifoOf(g) + L.FIFO_SECOND_VALUES + 8 * i);
      fn.get(P_DEV).get(this.pos).i32(1).op(Op.i32Add).mem(Op.i32Store8, fifoOf(g) + L.FH_OWNER + i);
      fn.br(2).end();
    }
    fn.end();
    // a third value, a second with no free slot, or a NaN: the ring record counts from now on
    fn.get(this.sec).i32(-1).op(Op.i32Ne).if();
    this.freeSecond(g);
    fn.end();
    fn.get(P_DEV).get(this.multi).get(this.head).op(Op.i32Or).mem(Op.i32Store8, fifoOf(g) + L.FH_MULTI);
    fn.end();
    fn.end();
    fn.else();
    // into an earlier bucket (a late event): no entry is kept, every second-value slot free
    fn.get(P_DEV).get(this.occ).get(this.sel).op(Op.i64Or).op(Op.i64Popcnt).i64(16n).op(Op.i64Shl).mem(Op.i64Store, fifoOf(g));
    fn.end();
  }
}
