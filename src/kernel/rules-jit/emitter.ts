// Emits the compiled evaluator of one program (rules-jit/index.ts): the interpreter's state
// machine (assembly/rules/index.ts `step`) per rule as straight-line WebAssembly.
import * as L from '../../../assembly/layout.js';
import * as F from '../../../assembly/rules/format.js';
import { FeatureFn } from '../program-spec.js';
import { F64, FunctionBody, I32, I64, Op, type ValType } from '../wasm-writer.js';
import type { Feature, Group, Node, Program, Rule } from './read-program.js';
import { ID_TAG } from './cache-ops.js';

const NAN_BITS = 0x7ff8000000000000n;
const COMPARE: Record<number, number> = {
  [F.OP_LT]: Op.f64Lt, [F.OP_LE]: Op.f64Le, [F.OP_GT]: Op.f64Gt, [F.OP_GE]: Op.f64Ge, [F.OP_EQ]: Op.f64Eq,
  [F.OP_FEATURE_LT_NUM]: Op.f64Lt, [F.OP_FEATURE_LE_NUM]: Op.f64Le, [F.OP_FEATURE_GT_NUM]: Op.f64Gt,
  [F.OP_FEATURE_GE_NUM]: Op.f64Ge, [F.OP_FEATURE_EQ_NUM]: Op.f64Eq,
};
const ARITH: Record<number, number> = { [F.OP_ADD]: Op.f64Add, [F.OP_SUB]: Op.f64Sub, [F.OP_MUL]: Op.f64Mul, [F.OP_DIV]: Op.f64Div };
/** Windowed functions answered inline from a window cache record (the rest call jitFeature). */
const INLINE_WINDOW = new Set<number>([FeatureFn.Count, FeatureFn.Rate, FeatureFn.Sum, FeatureFn.Avg, FeatureFn.Min, FeatureFn.Max, FeatureFn.Delta]);

// Parameters of the compiled function, in the order the kernel's call_indirect passes them.
export const P_DEV = 0, P_STATE = 1, P_SLOT = 2, P_EPOCH = 3, P_TS = 4, P_TAU = 5, P_NOW = 6;
export const PARAMS: ValType[] = [I32, I32, I32, I32, F64, F64, F64];
// Kernel imports, function indices in import order.
const K_SYNC = 0, K_FEATURE = 1, K_MATCHES = 2, K_EMIT = 3, K_ATTR = 4;

/** Emits the evaluator of one program into `fn`. */
export class Emitter {
  private readonly value: number[] = [];
  private readonly known: number[] = [];
  private readonly synced = new Map<number, number>();
  private readonly word: number;
  private readonly cur: number;
  private readonly when: number;
  private readonly due: number;
  private readonly rec: number;
  private readonly tmp: number;
  private readonly start: number;
  private readonly tag: number;

  /** `syncFn`: per sliding group index, the module function that syncs its cache (upkeep.ts emitSync). */
  constructor(private readonly fn: FunctionBody, private readonly p: Program, private readonly syncFn: ReadonlyMap<number, number> = new Map()) {
    this.word = fn.local(I32);
    this.cur = fn.local(I32);
    this.when = fn.local(I32);
    this.due = fn.local(I32);
    this.rec = fn.local(I32);
    this.tmp = fn.local(F64);
    this.start = fn.local(F64);
    this.tag = fn.local(I64);
  }

  /** Feature `f`'s value (f64 on the stack), computed at its first use of the evaluation. */
  private feature(f: number): void {
    const fn = this.fn;
    if (this.value[f] === undefined) {
      this.value[f] = fn.local(F64);
      this.known[f] = fn.local(I32);
    }
    fn.get(this.known[f]).if(F64).get(this.value[f]).else();
    this.computeFeature(this.p.features[f], f);
    fn.tee(this.value[f]).i32(1).set(this.known[f]).end();
  }

  /** queryDeviceFeature's value of feature `index` (cachedWindowValue / scalarValue), inline where it can. */
  private computeFeature(feat: Feature, index: number): void {
    const fn = this.fn;
    const g = feat.group;
    if (g === null) {
      const o = feat.stateOff;
      // last/ewma/age state: u32 has at +0, f64s from +8 (scalarValue)
      if (feat.fn === FeatureFn.Last || feat.fn === FeatureFn.Ewma) {
        fn.get(P_DEV).mem(Op.i32Load, o).if(F64).get(P_DEV).mem(Op.f64Load, o + (feat.fn === FeatureFn.Last ? 16 : 8)).else().f64(NaN).end();
      } else if (feat.fn === FeatureFn.Age) {
        fn.get(P_DEV).mem(Op.i32Load, o).if(F64).get(P_NOW).get(P_DEV).mem(Op.f64Load, o + 8).op(Op.f64Sub).f64(1000).op(Op.f64Div)
          .else().f64(Infinity).end();
      } else {
        fn.f64(NaN);
      }
      return;
    }
    if (!INLINE_WINDOW.has(feat.fn)) {
      fn.get(P_DEV).i32(index).get(P_NOW).call(K_FEATURE);
      return;
    }
    this.syncGroup(g);
    const c = g.cache;
    if (feat.fn === FeatureFn.Count || feat.fn === FeatureFn.Rate) {
      fn.get(P_DEV).mem(Op.f64Load, c + g.blockOff[L.BLK_CNT]);
      if (feat.fn === FeatureFn.Rate) fn.f64(g.windowSec).op(Op.f64Div);
    } else if (feat.fn === FeatureFn.Sum || feat.fn === FeatureFn.Avg) {
      const s = c + g.blockOff[L.BLK_SUM];
      // slides and adds may have drifted the sum from the scan's: past the bound, scan again
      fn.get(P_DEV).mem(Op.f64Load, c + g.recBytes + L.CT_DRIFT).tee(this.tmp).f64(0).op(Op.f64Gt)
        .get(this.tmp).get(P_DEV).mem(Op.f64Load, s + 8).op(Op.f64Abs).f64(L.SUM_DRIFT_LIMIT).op(Op.f64Mul).op(Op.f64Gt)
        .op(Op.i32And).if().i32(g.index).get(P_DEV).get(P_TAU).i32(1).call(K_SYNC).end();
      fn.get(P_DEV).mem(Op.f64Load, s + 8);
      if (feat.fn === FeatureFn.Avg) fn.get(P_DEV).mem(Op.f64Load, s).op(Op.f64Div);
    } else if (feat.fn === FeatureFn.Min || feat.fn === FeatureFn.Max) {
      // ±∞ are the block's identities: no event in the window
      fn.get(P_DEV).mem(Op.f64Load, c + g.blockOff[L.BLK_MINMAX] + (feat.fn === FeatureFn.Max ? 8 : 0)).tee(this.tmp)
        .op(Op.f64Abs).f64(Infinity).op(Op.f64Eq).if(F64).f64(NaN).else().get(this.tmp).end();
    } else {
      const p = c + g.blockOff[L.BLK_FIRSTLAST];
      fn.get(P_DEV).mem(Op.f64Load, p + 16).f64(-Infinity).op(Op.f64Eq).if(F64).f64(NaN)
        .else().get(P_DEV).mem(Op.f64Load, p + 24).get(P_DEV).mem(Op.f64Load, p + 8).op(Op.f64Sub).end();
    }
  }

  /**
   * Brings group `g`'s window cache to τ once per evaluation, as cachedWindowValue decides it:
   * current while τ lies in the tagged bucket; a sliding record whose window holds nothing is
   * answered as is; otherwise the group's sync function of the module slides it to τ's
   * bucket (upkeep.ts emitSync; jitSync for a group the compiled code does not slide). The
   * slide stays out of line: loops inside the evaluator made TurboFan's code for a 100-rule
   * evaluator twice as slow (A/B 1.30).
   */
  private syncGroup(g: Group): void {
    const fn = this.fn;
    let flag = this.synced.get(g.index);
    if (flag === undefined) {
      flag = fn.local(I32);
      this.synced.set(g.index, flag);
    }
    fn.get(flag).op(Op.i32Eqz).if();
    fn.get(P_DEV).mem(Op.i64Load, g.cache).tee(this.tag).i64(ID_TAG).op(Op.i64Xor).op(Op.f64ConvertI64S).f64(g.bucketMs).op(Op.f64Mul).set(this.start);
    fn.get(P_TAU).get(this.start).op(Op.f64Ge).get(P_TAU).get(this.start).f64(g.bucketMs).op(Op.f64Add).op(Op.f64Lt).op(Op.i32And).op(Op.i32Eqz).if();
    if ((g.flags & L.GF_SLIDES) !== 0) {
      fn.get(this.tag).op(Op.i64Eqz).get(P_DEV).mem(Op.i64Load, g.cache + g.recBytes + L.CT_OCCUPIED).op(Op.i64Eqz).op(Op.i32Eqz).op(Op.i32Or);
    } else {
      fn.i32(1);
    }
    fn.if();
    const sync = this.syncFn.get(g.index);
    if (sync !== undefined) fn.get(P_DEV).get(P_TAU).call(sync);
    else fn.i32(g.index).get(P_DEV).get(P_TAU).i32(0).call(K_SYNC);
    fn.end();
    fn.end();
    fn.i32(1).set(flag).end();
  }

  /** truthy(value of n): an i32 0/1. */
  private bool(n: Node): void {
    const fn = this.fn;
    switch (n.k) {
      case 'fused':
      case 'binary':
        if (n.k === 'fused' ? n.op !== F.OP_FEATURE_NE_NUM : COMPARE[n.op] !== undefined) {
          if (n.k === 'fused') { this.feature(n.f); fn.f64(n.v); } else { this.f64(n.a); this.f64(n.b); }
          fn.op(COMPARE[n.op]);
          return;
        }
        if (n.k === 'fused' || n.op === F.OP_NE) { this.notEqual(n); return; }
        if (n.op === F.OP_AND || n.op === F.OP_OR) { this.bool(n.a); this.bool(n.b); fn.op(n.op === F.OP_AND ? Op.i32And : Op.i32Or); return; }
        break;
      case 'and': this.bool(n.a); fn.if(I32); this.bool(n.b); fn.else().i32(0).end(); return;
      case 'or': this.bool(n.a); fn.if(I32).i32(1).else(); this.bool(n.b); fn.end(); return;
      case 'bool': this.bool(n.a); return;
      case 'unary': if (n.op === F.OP_NOT) { this.bool(n.a); fn.op(Op.i32Eqz); return; } break;
      default: break;
    }
    // any other value: non-zero and not NaN
    this.f64(n);
    fn.tee(this.tmp).f64(0).op(Op.f64Ne).get(this.tmp).get(this.tmp).op(Op.f64Eq).op(Op.i32And);
  }

  /** `a != b` with every NaN comparison false (the interpreter's OP_NE). */
  private notEqual(n: Node & ({ k: 'fused' } | { k: 'binary' })): void {
    const fn = this.fn;
    const a = fn.local(F64), b = fn.local(F64);
    if (n.k === 'fused') { this.feature(n.f); fn.set(a).f64(n.v).set(b); } else { this.f64(n.a); fn.set(a); this.f64(n.b); fn.set(b); }
    fn.get(a).get(a).op(Op.f64Eq).get(b).get(b).op(Op.f64Eq).op(Op.i32And).get(a).get(b).op(Op.f64Ne).op(Op.i32And);
  }

  /** The f64 value of n. */
  private f64(n: Node): void {
    const fn = this.fn;
    switch (n.k) {
      case 'num': fn.f64(n.v); return;
      case 'feature': this.feature(n.f); return;
      case 'attr':
        // an attribute slot holds the number's bits XOR the canonical NaN's (zeroed: absent)
        fn.get(P_STATE).mem(Op.i64Load, this.p.attrSlots + n.slot * 8).i64(NAN_BITS).op(Op.i64Xor).op(Op.f64ReinterpretI64);
        return;
      case 'unary':
        if (n.op === F.OP_NOT) break;
        this.f64(n.a);
        fn.op(n.op === F.OP_ABS ? Op.f64Abs : Op.f64Neg);
        return;
      case 'binary':
        if (ARITH[n.op] === undefined) break;
        this.f64(n.a);
        this.f64(n.b);
        fn.op(ARITH[n.op]);
        return;
      default: break;
    }
    this.bool(n);
    fn.op(Op.f64ConvertI32U);
  }

  /** Rule word: (word & ~state mask) | bits, stored. */
  private storeWord(r: Rule, bits: number): void {
    this.fn.get(P_STATE).get(this.word).i32(~F.RSW_STATE_MASK).op(Op.i32And);
    if (bits !== 0) this.fn.i32(bits).op(Op.i32Or);
    this.fn.mem(Op.i32Store, r.word);
  }

  /** A transition record of rule `i` (jitEmit heads it) with the values of the rule's reads. */
  private emit(i: number, r: Rule, what: number): void {
    const fn = this.fn;
    fn.i32(i).i32(what).get(P_SLOT).get(P_EPOCH).get(P_TS).call(K_EMIT).tee(this.rec).if();
    r.reads.forEach((rd, j) => {
      fn.get(this.rec);
      if (rd.kind === F.READ_FEATURE) this.feature(rd.id);
      else fn.get(P_DEV).i32(rd.id).call(K_ATTR);
      fn.mem(Op.f64Store, L.OT_VALUES + 8 * j);
    });
    fn.end();
  }

  /** One rule's state machine (assembly/rules/index.ts `step`) at rule time τ. */
  rule(i: number, r: Rule): void {
    const fn = this.fn;
    fn.block();
    fn.get(P_STATE).mem(Op.i32Load, r.word).tee(this.word).i32(F.RSW_STATE_MASK).op(Op.i32And).set(this.cur);
    if (r.matchCount > 0) {
      // leaving the selector is silent; the cooldown memory stays
      fn.i32(i).get(P_DEV).call(K_MATCHES).op(Op.i32Eqz).if().get(this.cur).if();
      this.storeWord(r, L.RS_IDLE);
      fn.end().br(1).end();
    }
    this.bool(r.when);
    fn.set(this.when);
    fn.get(this.cur).i32(L.RS_FIRING).op(Op.i32Eq).if();
    if (r.clear) this.bool(r.clear);
    else fn.get(this.when).op(Op.i32Eqz);
    fn.if();
    this.storeWord(r, L.RS_IDLE);
    this.emit(i, r, L.STATE_CLEARED);
    fn.end().br(1).end();
    // when false: a pending rule drops silently
    fn.get(this.when).op(Op.i32Eqz).if().get(this.cur).i32(L.RS_PENDING).op(Op.i32Eq).if();
    this.storeWord(r, L.RS_IDLE);
    fn.end().br(1).end();
    // `for` and `cooldown` of 0 are no condition at all
    if (r.since !== 0) {
      fn.get(this.cur).op(Op.i32Eqz).if().get(P_STATE).get(P_TAU).mem(Op.f64Store, r.since).end();
      fn.get(P_TAU).get(P_STATE).mem(Op.f64Load, r.since).f64(r.forMs).op(Op.f64Add).op(Op.f64Ge).set(this.due);
    } else {
      fn.i32(1).set(this.due);
    }
    if (r.lastFire !== 0) {
      fn.get(this.due).get(this.word).i32(F.RSW_FIRED).op(Op.i32And).i32(0).op(Op.i32Ne).op(Op.i32And).if()
        .get(P_TAU).get(P_STATE).mem(Op.f64Load, r.lastFire).f64(r.cooldownMs).op(Op.f64Add).op(Op.f64Ge).set(this.due).end();
    }
    fn.get(this.due).if();
    this.storeWord(r, F.RSW_FIRED | L.RS_FIRING);
    if (r.lastFire !== 0) fn.get(P_STATE).get(P_TAU).mem(Op.f64Store, r.lastFire);
    this.emit(i, r, L.STATE_FIRED);
    fn.else().get(this.cur).op(Op.i32Eqz).if();
    this.storeWord(r, L.RS_PENDING);
    fn.end().end();
    fn.end();
  }
}

