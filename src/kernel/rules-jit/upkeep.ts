// Emits the compiled window-cache upkeep of one program (rules-jit/index.ts): what
// updateGroup does to a live cache record of a *sliding* group (assembly/kernel/groups.ts
// cacheToTau and cacheAddEvent, window-cache.ts slideCache, takeOut, cacheAdded) as
// straight-line WebAssembly per group, with the group's bucket width, ring size, block
// offsets and record layout as constants. applyEvents calls it once per event, before the
// event touches the ring (the bucket that leaves the window may share the event's ring
// slot), and updateGroup then leaves those caches alone. Every operation is the kernel's,
// in the kernel's order, so both leave the same bytes (test/rules-jit.test.ts); the rare
// re-merge of extremes calls back into the kernel (jitMergeExtremes).
import * as L from '../../../assembly/layout.js';
import { F64, FunctionBody, I32, I64, Op, type ValType } from '../wasm-writer.js';
import type { Group } from './read-program.js';
import { DamperError } from '../../errors.js';

// Parameters of upkeep, in the order the kernel's call_indirect passes them.
const P_DEV = 0, P_METRIC = 1, P_TS = 2, P_V = 3, P_TAU = 4;
export const UPKEEP_PARAMS: ValType[] = [I32, I32, F64, F64, F64];
const ID_TAG = -(2n ** 63n);
const has = (g: Group, b: number): boolean => (g.mask & (1 << b)) !== 0;
/** Blocks updateGroup can slide out of a cache (GF_SLIDES rules out moments and fits). */
const SLIDING_BLOCKS = (1 << L.BLK_CNT) | (1 << L.BLK_SUM) | (1 << L.BLK_MINMAX) | (1 << L.BLK_FIRSTLAST) | (1 << L.BLK_RFIT);

/** Emits upkeep(dev, metric, ts, v, τ) for the sliding groups of `groups` into `fn`; `mergeExtremes`: the import's index. */
export class UpkeepEmitter {
  private readonly key: number;
  private readonly idf: number;
  private readonly hi: number;
  private readonly q: number;
  private readonly r: number;
  private readonly recSum: number;
  private readonly from: number;
  private readonly to: number;
  private readonly m: number;
  private readonly first: number;
  private readonly leaving: number;
  private readonly occ: number;
  private readonly sel: number;
  private readonly rest: number;
  private readonly live: number;
  private readonly addr: number;
  private readonly ext: number;
  private readonly acc: { cnt: number; n: number; sum: number; drift: number; mn: number; mx: number; ft: number; lt: number };

  constructor(private readonly fn: FunctionBody, private readonly mergeExtremes: number) {
    const l = (t: ValType): number => fn.local(t);
    this.key = l(I64); this.idf = l(F64); this.hi = l(F64); this.q = l(F64); this.r = l(F64); this.recSum = l(F64);
    this.from = l(I64); this.to = l(I64); this.m = l(I64); this.first = l(I64); this.leaving = l(I64);
    this.occ = l(I64); this.sel = l(I64); this.rest = l(I64); this.live = l(I32); this.addr = l(I32); this.ext = l(I32);
    this.acc = { cnt: l(F64), n: l(F64), sum: l(F64), drift: l(F64), mn: l(F64), mx: l(F64), ft: l(F64), lt: l(F64) };
  }

  /** The whole function: per metric with sliding groups, each group's upkeep, then return. */
  emit(groups: Group[]): void {
    const fn = this.fn;
    const sliding = groups.filter((g) => (g.flags & L.GF_SLIDES) !== 0);
    for (const g of sliding) {
      if ((g.mask & ~SLIDING_BLOCKS) !== 0 || g.nb > 64) throw new DamperError('DAMPER_ERR_RULES_JIT', `rules compiler: group ${g.index} slides with blocks 0x${g.mask.toString(16)}`);
    }
    for (const metric of [...new Set(sliding.map((g) => g.metric))]) {
      fn.get(P_METRIC).i32(metric).op(Op.i32Eq).if();
      for (const g of sliding) if (g.metric === metric) this.group(g);
      fn.op(Op.return).end();
    }
  }

  /** floor(x / d) from 1/d with the kernel's correction steps (groups.ts floorDiv) into local `out`. */
  private floorDiv(x: number, d: number, inv: number, out: number): void {
    const fn = this.fn;
    fn.get(x).f64(inv).op(Op.f64Mul).op(Op.f64Floor).set(out);
    fn.block().loop().get(out).f64(d).op(Op.f64Mul).get(x).op(Op.f64Gt).op(Op.i32Eqz).brIf(1)
      .get(out).f64(1).op(Op.f64Sub).set(out).br(0).end().end();
    fn.block().loop().get(out).f64(1).op(Op.f64Add).f64(d).op(Op.f64Mul).get(x).op(Op.f64Le).op(Op.i32Eqz).brIf(1)
      .get(out).f64(1).op(Op.f64Add).set(out).br(0).end().end();
  }

  /** One group: late check, slide to τ's bucket, then the event added to the cache. */
  private group(g: Group): void {
    const fn = this.fn;
    const c = g.cache, t = g.cache + g.recBytes, ring = g.stateOff + L.GROUP_HEADER_BYTES;
    const nbf = g.nb;
    fn.block();
    // no live cache record: nothing to keep
    fn.get(P_DEV).mem(Op.i64Load, c).tee(this.key).op(Op.i64Eqz).brIf(0);
    this.floorDiv(P_TS, g.bucketMs, g.invBucketMs, this.idf);
    // τ's bucket, and late events (they never touch the cache)
    fn.get(P_TS).get(P_TAU).op(Op.f64Lt).if();
    this.floorDiv(P_TAU, g.bucketMs, g.invBucketMs, this.hi);
    fn.get(this.idf).get(this.hi).f64(nbf).op(Op.f64Sub).f64(1).op(Op.f64Add).op(Op.f64Lt).brIf(1);
    fn.else().get(this.idf).set(this.hi).end();
    // the event's ring slot r = idf mod nb
    this.floorDiv(this.idf, nbf, g.invNb, this.q);
    fn.get(this.idf).get(this.q).f64(nbf).op(Op.f64Mul).op(Op.f64Sub).set(this.r);
    if (has(g, L.BLK_SUM)) {
      // the bucket record's sum once the kernel has added the event (reset first when it
      // holds another bucket): cacheAdded counts its rounding
      const s = ring + g.blockOff[L.BLK_SUM] + 8;
      fn.get(P_DEV).get(this.r).i64TruncSatF64S().op(Op.i32WrapI64).i32(g.recBytes).op(Op.i32Mul).op(Op.i32Add).tee(this.addr)
        .mem(Op.i64Load, ring).i64(ID_TAG).op(Op.i64Xor).get(this.idf).i64TruncSatF64S().op(Op.i64Eq)
        .if(F64).get(this.addr).mem(Op.f64Load, s).else().f64(0).end().get(P_V).op(Op.f64Add).set(this.recSum);
    }
    // slideCache from the tagged bucket to τ's
    fn.i32(1).set(this.live);
    fn.get(this.key).i64(ID_TAG).op(Op.i64Xor).tee(this.from).get(this.hi).i64TruncSatF64S().tee(this.to).op(Op.i64Ne).if();
    fn.get(this.to).get(this.from).op(Op.i64LtS).if();
    fn.get(P_DEV).i64(0n).mem(Op.i64Store, c).i32(0).set(this.live);
    fn.else();
    fn.get(P_DEV).get(this.to).i64(ID_TAG).op(Op.i64Xor).mem(Op.i64Store, c);
    fn.get(this.to).get(this.from).op(Op.i64Sub).tee(this.m).i64(BigInt(g.nb)).op(Op.i64GeS).if();
    this.emptyCache(g);
    fn.else();
    // the first leaving bucket's slot: from this event's slot when it is in τ's bucket
    fn.get(P_TS).get(P_TAU).op(Op.f64Ge).if(I64);
    fn.get(this.r).i64TruncSatF64S().get(this.m).op(Op.i64Sub).i64(1n).op(Op.i64Add).tee(this.first).i64(0n).op(Op.i64LtS)
      .if(I64).get(this.first).i64(BigInt(g.nb)).op(Op.i64Add).else().get(this.first).end();
    fn.else();
    // ringSlot(from − nb + 1, nb), in f64 as the kernel
    fn.get(this.from).i64(BigInt(g.nb)).op(Op.i64Sub).i64(1n).op(Op.i64Add).op(Op.f64ConvertI64S).tee(this.q)
      .get(this.q).f64(nbf).op(Op.f64Div).op(Op.f64Floor).f64(nbf).op(Op.f64Mul).op(Op.f64Sub).i64TruncSatF64S();
    fn.end().set(this.first);
    this.slotRange(g.nb);
    fn.get(P_DEV).mem(Op.i64Load, t + L.CT_OCCUPIED).tee(this.occ).get(this.leaving).op(Op.i64And).tee(this.sel).op(Op.i64Eqz).op(Op.i32Eqz).if();
    fn.get(this.occ).get(this.leaving).i64(-1n).op(Op.i64Xor).op(Op.i64And).tee(this.rest).op(Op.i64Eqz).if();
    this.emptyCache(g);
    fn.else();
    fn.get(P_DEV).get(this.rest).mem(Op.i64Store, t + L.CT_OCCUPIED);
    this.takeOut(g);
    fn.end().end(); // rest, sel
    fn.end(); // m ≥ nb
    fn.end(); // to < from
    fn.end(); // from ≠ to
    fn.get(this.live).if();
    this.addEvent(g);
    this.cacheAdded(g);
    fn.end();
    fn.end();
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
    if (extremes) fn.i32(0).set(this.ext);
    fn.block().loop();
    fn.get(this.sel).op(Op.i64Eqz).brIf(1);
    fn.get(P_DEV).get(this.sel).op(Op.i64Ctz).op(Op.i32WrapI64).i32(g.recBytes).op(Op.i32Mul).op(Op.i32Add).set(this.addr);
    fn.get(this.sel).get(this.sel).i64(1n).op(Op.i64Sub).op(Op.i64And).set(this.sel);
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
    if (extremes) fn.get(this.ext).if().i32(g.index).get(P_DEV).get(this.rest).call(this.mergeExtremes).end();
  }

  /** addEvent (blocks.ts) of the event to the cache record, for the blocks a sliding group has. */
  private addEvent(g: Group): void {
    const fn = this.fn;
    const c = g.cache;
    const inc = (p: number): void => { fn.get(P_DEV).get(P_DEV).mem(Op.f64Load, p).f64(1).op(Op.f64Add).mem(Op.f64Store, p); };
    if (has(g, L.BLK_CNT)) inc(c + g.blockOff[L.BLK_CNT]);
    if (has(g, L.BLK_SUM)) {
      const p = c + g.blockOff[L.BLK_SUM];
      inc(p);
      fn.get(P_DEV).get(P_DEV).mem(Op.f64Load, p + 8).get(P_V).op(Op.f64Add).mem(Op.f64Store, p + 8);
    }
    if (has(g, L.BLK_MINMAX)) {
      const p = c + g.blockOff[L.BLK_MINMAX];
      fn.get(P_V).get(P_DEV).mem(Op.f64Load, p).op(Op.f64Lt).if().get(P_DEV).get(P_V).mem(Op.f64Store, p).end();
      fn.get(P_V).get(P_DEV).mem(Op.f64Load, p + 8).op(Op.f64Gt).if().get(P_DEV).get(P_V).mem(Op.f64Store, p + 8).end();
    }
    if (has(g, L.BLK_FIRSTLAST)) {
      // earliest: smallest ts, ties keep the first arrival; latest: greatest ts, ties take the latest arrival
      const p = c + g.blockOff[L.BLK_FIRSTLAST];
      fn.get(P_TS).get(P_DEV).mem(Op.f64Load, p).op(Op.f64Lt).if()
        .get(P_DEV).get(P_TS).mem(Op.f64Store, p).get(P_DEV).get(P_V).mem(Op.f64Store, p + 8).end();
      fn.get(P_TS).get(P_DEV).mem(Op.f64Load, p + 16).op(Op.f64Ge).if()
        .get(P_DEV).get(P_TS).mem(Op.f64Store, p + 16).get(P_DEV).get(P_V).mem(Op.f64Store, p + 24).end();
    }
    if (has(g, L.BLK_RFIT)) inc(c + g.blockOff[L.BLK_RFIT]);
  }

  /** cacheAdded (window-cache.ts): the event's slot is occupied; the sums' rounding counts in the drift. */
  private cacheAdded(g: Group): void {
    const fn = this.fn;
    const t = g.cache + g.recBytes;
    fn.get(P_DEV).get(P_DEV).mem(Op.i64Load, t + L.CT_OCCUPIED).i64(1n).get(this.r).i64TruncSatF64S().op(Op.i64Shl).op(Op.i64Or)
      .mem(Op.i64Store, t + L.CT_OCCUPIED);
    if (has(g, L.BLK_SUM)) {
      fn.get(P_DEV).get(P_DEV).mem(Op.f64Load, t + L.CT_DRIFT).op(Op.f64Abs)
        .get(P_DEV).mem(Op.f64Load, g.cache + g.blockOff[L.BLK_SUM] + 8).op(Op.f64Abs).get(this.recSum).op(Op.f64Abs).op(Op.f64Add)
        .f64(L.SUM_ROUNDING).op(Op.f64Mul).op(Op.f64Add).mem(Op.f64Store, t + L.CT_DRIFT);
    }
  }
}
