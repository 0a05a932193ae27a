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
import { FifoEmitter, hasFifo } from './fifo-ops.js';

/** The device block: parameter 0 of both compiled functions. */
const P_DEV = 0;
export const ID_TAG = -(2n ** 63n);
export const has = (g: Group, b: number): boolean => (g.mask & (1 << b)) !== 0;
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
  // the walk of buckets in bucket order (fromSlot, walk)
  private readonly bits: number;
  private readonly slot: number;
  private readonly fifo: FifoEmitter;
  private readonly acc: { cnt: number; n: number; sum: number; drift: number; mn: number; mx: number; ft: number; fv: number; lt: number; lv: number };

  constructor(private readonly fn: FunctionBody) {
    const l = (t: ValType): number => fn.local(t);
    this.from = l(I64); this.to = l(I64); this.live = l(I32);
    this.q = l(F64); this.m = l(I64); this.first = l(I64); this.leaving = l(I64);
    this.occ = l(I64); this.sel = l(I64); this.rest = l(I64); this.addr = l(I32); this.ext = l(I32); this.tmp = l(F64);
    this.bits = l(I64); this.slot = l(I64);
    this.fifo = new FifoEmitter(fn);
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
    this.resetRecord(g, P_DEV, c);
    fn.get(P_DEV).i64(0n).mem(Op.i64Store, c + g.recBytes + L.CT_DRIFT).get(P_DEV).i64(0n).mem(Op.i64Store, c + g.recBytes + L.CT_OCCUPIED);
    if (hasFifo(g)) this.fifo.reset(g);
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
    if (fifo) this.fifo.beginTakeOut(g);
    // oldest first; a bucket with a FIFO entry is taken out as the record of its one or
    // two values (count, n, sum (0 + a) + b, min, max), without its ring record
    this.fromSlot(this.sel, g.nb);
    this.walk(g.nb);
    if (fifo) {
      const e = this.fifo;
      e.ifEntry(g, true, true);
      if (readsMin) fn.get(e.lo).get(a.mn).op(Op.f64Le).get(this.ext).op(Op.i32Or).set(this.ext);
      if (readsMax) fn.get(e.hi).get(a.mx).op(Op.f64Ge).get(this.ext).op(Op.i32Or).set(this.ext);
      if (hasCnt) fn.get(a.cnt).get(e.k1).op(Op.f64Sub).set(a.cnt);
      if (hasSum) {
        fn.get(a.n).get(e.k1).op(Op.f64Sub).set(a.n);
        fn.get(a.drift).get(a.sum).get(e.s1).op(Op.f64Sub).tee(a.sum)
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
    if (fifo) this.fifo.takenOut(g, this.sel);
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
    if (hasFifo(g)) this.fifo.beginMerge();
    this.walk(g.nb);
    if (hasFifo(g)) {
      const e = this.fifo;
      e.ifEntry(g, false, false);
      fn.get(e.lo).get(a.mn).op(Op.f64Lt).if().get(e.lo).set(a.mn).end();
      fn.get(e.hi).get(a.mx).op(Op.f64Gt).if().get(e.hi).set(a.mx).end();
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

  /**
   * addEvent (blocks.ts) of value `v` at time `ts` (locals) to a record of group `g`, for the
   * blocks a sliding group has: the cache record (default), or the record at local `base` +
   * `off` (a ring record).
   */
  addEvent(g: Group, ts: number, v: number, base = P_DEV, off = g.cache): void {
    const fn = this.fn;
    const c = off;
    const inc = (p: number): void => { fn.get(base).get(base).mem(Op.f64Load, p).f64(1).op(Op.f64Add).mem(Op.f64Store, p); };
    if (has(g, L.BLK_CNT)) inc(c + g.blockOff[L.BLK_CNT]);
    if (has(g, L.BLK_SUM)) {
      const p = c + g.blockOff[L.BLK_SUM];
      inc(p);
      fn.get(base).get(base).mem(Op.f64Load, p + 8).get(v).op(Op.f64Add).mem(Op.f64Store, p + 8);
    }
    if (has(g, L.BLK_MINMAX)) {
      const p = c + g.blockOff[L.BLK_MINMAX];
      fn.get(v).get(base).mem(Op.f64Load, p).op(Op.f64Lt).if().get(base).get(v).mem(Op.f64Store, p).end();
      fn.get(v).get(base).mem(Op.f64Load, p + 8).op(Op.f64Gt).if().get(base).get(v).mem(Op.f64Store, p + 8).end();
    }
    if (has(g, L.BLK_FIRSTLAST)) {
      // earliest: smallest ts, ties keep the first arrival; latest: greatest ts, ties take the latest arrival
      const p = c + g.blockOff[L.BLK_FIRSTLAST];
      fn.get(ts).get(base).mem(Op.f64Load, p).op(Op.f64Lt).if()
        .get(base).get(ts).mem(Op.f64Store, p).get(base).get(v).mem(Op.f64Store, p + 8).end();
      fn.get(ts).get(base).mem(Op.f64Load, p + 16).op(Op.f64Ge).if()
        .get(base).get(ts).mem(Op.f64Store, p + 16).get(base).get(v).mem(Op.f64Store, p + 24).end();
    }
    if (has(g, L.BLK_RFIT)) inc(c + g.blockOff[L.BLK_RFIT]);
  }

  /** resetRecord (blocks.ts) of the record at local `base` + `off`: zero, min/max and first/last identities (the id is the caller's). */
  resetRecord(g: Group, base: number, off: number): void {
    const fn = this.fn;
    const mm = has(g, L.BLK_MINMAX) ? off + g.blockOff[L.BLK_MINMAX] : -1;
    const fl = has(g, L.BLK_FIRSTLAST) ? off + g.blockOff[L.BLK_FIRSTLAST] : -1;
    for (let p = off + 8; p < off + g.recBytes; p += 8) {
      if (p === mm || p === fl) fn.get(base).f64(Infinity).mem(Op.f64Store, p);
      else if (p === mm + 8 || p === fl + 16) fn.get(base).f64(-Infinity).mem(Op.f64Store, p);
      else fn.get(base).i64(0n).mem(Op.i64Store, p);
    }
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
    if (hasFifo(g)) this.fifo.added(g, v, this.occ, this.sel, newest);
  }
}
