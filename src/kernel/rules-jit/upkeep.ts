// Emits the compiled update of one program (rules-jit/index.ts): everything updateGroup
// does for a *sliding* group (assembly/kernel/groups.ts: late check, the bucket record reset
// and the event added, the rate-fit block's earliest bucket; cacheToTau and cacheAddEvent
// for a live cache record: slide to τ's bucket, the event added) as straight-line
// WebAssembly per group, with the group's bucket width, ring size and record layout as
// constants (cache-ops.ts). applyEvents calls it once per event and leaves the sliding
// groups to it; the other groups stay with updateGroup. Byte for byte the kernel's result
// (test/rules-jit.test.ts).
import * as L from '../../../assembly/layout.js';
import { F64, FunctionBody, I32, I64, Op, type ValType } from '../wasm-writer.js';
import type { Group } from './read-program.js';
import { CacheEmitter, ID_TAG, compiledSlides, has } from './cache-ops.js';

// Parameters of upkeep, in the order the kernel's call_indirect passes them; it returns 1
// when the event was late for a group it updated (applyEvents counts late events).
const P_DEV = 0, P_METRIC = 1, P_TS = 2, P_V = 3, P_TAU = 4;
export const UPKEEP_PARAMS: ValType[] = [I32, I32, F64, F64, F64];
export const UPKEEP_RESULTS: ValType[] = [I32];

/** Emits upkeep(dev, metric, ts, v, τ) → late for the sliding groups of a program into `fn`. */
export class UpkeepEmitter {
  private readonly ops: CacheEmitter;
  private readonly key: number;
  private readonly id: number;
  private readonly idf: number;
  private readonly hi: number;
  private readonly q: number;
  private readonly r: number;
  private readonly bucketSum: number;
  private readonly addr: number;
  private readonly s0: number;
  private readonly cacheLive: number;
  private readonly late: number;

  constructor(private readonly fn: FunctionBody) {
    this.ops = new CacheEmitter(fn);
    this.key = fn.local(I64);
    this.id = fn.local(I64);
    this.idf = fn.local(F64);
    this.hi = fn.local(F64);
    this.q = fn.local(F64);
    this.r = fn.local(F64);
    this.bucketSum = fn.local(F64);
    this.addr = fn.local(I32);
    this.s0 = fn.local(I64);
    this.cacheLive = fn.local(I32);
    this.late = fn.local(I32);
  }

  /** The whole function: per metric with sliding groups, each group's update, then return. */
  emit(groups: Group[]): void {
    const fn = this.fn;
    const sliding = groups.filter(compiledSlides);
    for (const metric of [...new Set(sliding.map((g) => g.metric))]) {
      fn.get(P_METRIC).i32(metric).op(Op.i32Eq).if();
      for (const g of sliding) if (g.metric === metric) this.group(g);
      fn.get(this.late).op(Op.return).end();
    }
    fn.i32(0);
  }

  /** One group: late check, the cache slid to τ's bucket (cacheToTau), the bucket record, the event into the cache (cacheAddEvent). */
  private group(g: Group): void {
    const fn = this.fn;
    const ops = this.ops;
    const ring = g.stateOff + L.GROUP_HEADER_BYTES;
    fn.block();
    ops.floorDiv(P_TS, g.bucketMs, g.invBucketMs, this.idf);
    // τ's bucket, and late events (they touch nothing of the group)
    fn.get(P_TS).get(P_TAU).op(Op.f64Lt).if();
    ops.floorDiv(P_TAU, g.bucketMs, g.invBucketMs, this.hi);
    fn.get(this.idf).get(this.hi).f64(g.nb).op(Op.f64Sub).f64(1).op(Op.f64Add).op(Op.f64Lt).if().i32(1).set(this.late).br(2).end();
    fn.else().get(this.idf).set(this.hi).end();
    // the event's ring slot r = idf mod nb, its record at addr + ring
    ops.floorDiv(this.idf, g.nb, g.invNb, this.q);
    fn.get(this.idf).get(this.q).f64(g.nb).op(Op.f64Mul).op(Op.f64Sub).set(this.r);
    fn.get(P_DEV).get(this.r).i64TruncSatF64S().op(Op.i32WrapI64).i32(g.recBytes).op(Op.i32Mul).op(Op.i32Add).set(this.addr);
    // a live cache record slides before the record changes: the bucket that leaves the
    // window may share the event's ring slot
    fn.get(P_DEV).mem(Op.i64Load, g.cache).tee(this.key).op(Op.i64Eqz).op(Op.i32Eqz).tee(this.cacheLive).if();
    fn.get(this.key).i64(ID_TAG).op(Op.i64Xor).tee(ops.from).get(this.hi).i64TruncSatF64S().tee(ops.to).op(Op.i64Ne).if();
    // the first leaving bucket, from + 1 − nb, shares its ring slot with from + 1: known from
    // this event's slot when the event is in τ's bucket
    ops.slide(g, () => {
      fn.get(P_TS).get(P_TAU).op(Op.f64Ge).if(I64);
      fn.get(this.r).i64TruncSatF64S().get(ops.to).get(ops.from).op(Op.i64Sub).op(Op.i64Sub).i64(1n).op(Op.i64Add).tee(this.s0).i64(0n).op(Op.i64LtS)
        .if(I64).get(this.s0).i64(BigInt(g.nb)).op(Op.i64Add).else().get(this.s0).end();
      fn.else();
      ops.ringSlot(g);
      fn.end();
    });
    fn.get(ops.live).set(this.cacheLive);
    fn.end().end();
    // the bucket record: a new bucket resets it, then the event
    fn.get(this.addr).mem(Op.i64Load, ring).i64(ID_TAG).op(Op.i64Xor).get(this.idf).i64TruncSatF64S().tee(this.id).op(Op.i64Ne).if();
    ops.resetRecord(g, this.addr, ring);
    fn.get(this.addr).get(this.id).i64(ID_TAG).op(Op.i64Xor).mem(Op.i64Store, ring);
    fn.end();
    ops.addEvent(g, P_TS, P_V, this.addr, ring);
    if (has(g, L.BLK_RFIT)) {
      // the earliest bucket the rate-fit block has seen, in the group header
      fn.get(P_DEV).mem(Op.i64Load, g.stateOff).tee(this.key).op(Op.i64Eqz).get(this.id).get(this.key).i64(ID_TAG).op(Op.i64Xor).op(Op.i64LtS).op(Op.i32Or)
        .if().get(P_DEV).get(this.id).i64(ID_TAG).op(Op.i64Xor).mem(Op.i64Store, g.stateOff).end();
    }
    // the event into the live cache record; its bucket's sum as the record now holds it
    fn.get(this.cacheLive).if();
    ops.addEvent(g, P_TS, P_V);
    if (has(g, L.BLK_SUM)) fn.get(this.addr).mem(Op.f64Load, ring + g.blockOff[L.BLK_SUM] + 8).set(this.bucketSum);
    ops.cacheAdded(g, this.r, this.bucketSum, P_V, () => fn.get(this.idf).get(this.hi).op(Op.f64Eq));
    fn.end();
    fn.end();
  }
}

/** Parameters of a group's sync function: the device block and τ. */
export const SYNC_PARAMS: ValType[] = [I32, F64];

/**
 * Emits the sync of sliding group `g`'s cache to τ into `fn` (syncCache, called by the
 * evaluator when τ has left the tagged bucket and the window holds something): the slide,
 * or jitSync's scan (`sync`: the import's index) when there is no record or it was dropped.
 */
export function emitSync(fn: FunctionBody, g: Group, sync: number): void {
  const ops = new CacheEmitter(fn);
  const tag = fn.local(I64), hi = fn.local(F64);
  const dev = 0, tau = 1;
  fn.get(dev).mem(Op.i64Load, g.cache).tee(tag).op(Op.i64Eqz).if().i32(g.index).get(dev).get(tau).i32(1).call(sync).op(Op.return).end();
  ops.floorDiv(tau, g.bucketMs, g.invBucketMs, hi);
  fn.get(tag).i64(ID_TAG).op(Op.i64Xor).set(ops.from).get(hi).i64TruncSatF64S().set(ops.to);
  ops.slide(g, null);
  fn.get(ops.live).op(Op.i32Eqz).if().i32(g.index).get(dev).get(tau).i32(1).call(sync).end();
}
