// The value FIFO of a sliding window cache (assembly/kernel/window-fifo.ts) as WebAssembly
// for one group at a time: the take-out and the merge of cache-ops.ts read a bucket's record
// from its FIFO entry when it has one, and the compiled upkeep appends each event. Byte for
// byte what the kernel does (test/rules-jit.test.ts, test/window-fifo-check.ts).
import * as L from '../../../assembly/layout.js';
import { F64, FunctionBody, I32, Op, type ValType } from '../wasm-writer.js';
import type { Group } from './read-program.js';

/** The device block: parameter 0 of every compiled function. */
const P_DEV = 0;
/** True for a group with a value FIFO (encode-plan.ts, window-fifo.ts). */
export const hasFifo = (g: Group): boolean => (g.flags & L.GF_FIFO) !== 0;
/** The FIFO's offset in the device block. */
const fifoOf = (g: Group): number => g.cache + g.recBytes + L.CT_FIFO;

/** FIFO operations on locals of the function being emitted. */
export class FifoEmitter {
  // the record a FIFO entry stands for: min, max, count, sum (ifEntry)
  readonly lo: number;
  readonly hi: number;
  readonly k1: number;
  readonly s1: number;
  // header fields, the walk's bucket rank, an entry's position, value and second-value slot (−1: none)
  private readonly head: number;
  private readonly count: number;
  private readonly missing: number;
  private readonly multi: number;
  private readonly rank: number;
  private readonly pos: number;
  private readonly val: number;
  private readonly sec: number;
  private readonly tmp: number;

  constructor(private readonly fn: FunctionBody) {
    const l = (t: ValType): number => fn.local(t);
    this.lo = l(F64); this.hi = l(F64); this.k1 = l(F64); this.s1 = l(F64);
    this.head = l(I32); this.count = l(I32); this.missing = l(I32); this.multi = l(I32); this.rank = l(I32); this.pos = l(I32);
    this.val = l(F64); this.sec = l(I32); this.tmp = l(F64);
  }

  /** Before a take-out's walk of the leaving buckets: the header fields it reads, rank 0. */
  beginTakeOut(g: Group): void {
    this.fifoGet(g, L.FH_HEAD, this.head);
    this.fifoGet(g, L.FH_MISSING, this.missing);
    this.fifoGet(g, L.FH_MULTI, this.multi);
    this.fn.i32(0).set(this.rank);
  }

  /** Before a merge's walk of the buckets that stay: rank 0, the header as takenOut left it. */
  beginMerge(): void {
    this.fn.i32(0).set(this.rank);
  }

  /**
   * In a walk, for the next bucket: opens an `if` taken when its FIFO entry describes it,
   * with lo, hi (and k1, s1 when `counts`) its record's min, max (count, sum); `free`: its
   * second-value slot is freed (a take-out). The caller uses them and closes the `if`.
   */
  ifEntry(g: Group, counts: boolean, free: boolean): void {
    this.fifoValue(g);
    this.fn.get(this.val).get(this.val).op(Op.f64Eq).if();
    this.entryRecord(g, counts, free);
  }

  /** After a take-out of the buckets in ring slots `sel` (an i64 local): the header. */
  takenOut(g: Group, sel: number): void {
    const fn = this.fn;
    // the leaving buckets are the oldest: first the missing ones, then the oldest entries
    // (pos: how many left, then how many entries)
    fn.get(sel).op(Op.i64Popcnt).op(Op.i32WrapI64).set(this.pos);
    fn.get(this.missing).get(this.pos).op(Op.i32LtU).if();
    fn.get(this.pos).get(this.missing).op(Op.i32Sub).set(this.pos).i32(0).set(this.missing);
    fn.get(this.head).get(this.pos).op(Op.i32Add).tee(this.head).i32(L.FIFO_K).op(Op.i32GeU)
      .if().get(this.head).i32(L.FIFO_K).op(Op.i32Sub).set(this.head).end();
    this.fifoPut(g, L.FH_HEAD, this.head);
    fn.get(P_DEV).get(P_DEV).mem(Op.i32Load8U, fifoOf(g) + L.FH_COUNT).get(this.pos).op(Op.i32Sub).mem(Op.i32Store8, fifoOf(g) + L.FH_COUNT);
    fn.else().get(this.missing).get(this.pos).op(Op.i32Sub).set(this.missing).end();
    this.fifoPut(g, L.FH_MISSING, this.missing);
  }

  /** emptyCache: no entry, nothing missing, every slot free. */
  reset(g: Group): void {
    this.fn.get(P_DEV).i64(0n).mem(Op.i64Store, fifoOf(g));
  }

  /** fifoAdded (window-fifo.ts) of value `v` (local); `occ`/`sel`: locals, the occupied slots before the event and its slot's bit; `newest` pushes the i32 condition. */
  added(g: Group, v: number, occ: number, sel: number, newest: () => void): void {
    const fn = this.fn;
    const K = L.FIFO_K;
    newest();
    fn.if();
    fn.get(occ).get(sel).op(Op.i64And).op(Op.i64Eqz).if();
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
    // the second value of that entry, if it had one, is freed (only here can a slot
    // outlive its entry)
    this.fifoSecond(g);
    fn.get(this.sec).i32(-1).op(Op.i32Ne).if();
    this.freeSecond(g);
    fn.end();
    fn.end();
    fn.get(this.pos).i32(3).op(Op.i32Shl).get(P_DEV).op(Op.i32Add).get(v).mem(Op.f64Store, fifoOf(g) + L.FIFO_VALUES);
    fn.get(P_DEV).i32(1).get(this.pos).op(Op.i32Shl).mem(Op.i32Store8, fifoOf(g) + L.FH_NEWEST);
    fn.get(P_DEV).get(P_DEV).mem(Op.i32Load8U, fifoOf(g) + L.FH_MULTI).i32(1).get(this.pos).op(Op.i32Shl).i32(-1).op(Op.i32Xor).op(Op.i32And)
      .get(v).get(v).op(Op.f64Ne).get(this.pos).op(Op.i32Shl).op(Op.i32Or).mem(Op.i32Store8, fifoOf(g) + L.FH_MULTI);
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
    fn.get(P_DEV).get(occ).get(sel).op(Op.i64Or).op(Op.i64Popcnt).i64(16n).op(Op.i64Shl).mem(Op.i64Store, fifoOf(g));
    fn.end();
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
}
