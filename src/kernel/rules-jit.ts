// The rule compiler behind the kernel's compiled evaluator (assembly/rules/jit.ts): turns the
// active program of a shard memory — its plan and rules sections, exactly as the kernel reads
// them — into a WebAssembly module whose one function evaluates every rule of one device after
// an event, with the interpreter's semantics (assembly/rules/index.ts, docs/rule-vm.md), but
// as straight-line code: thresholds, state offsets, window-cache offsets and bucket widths
// are constants; each feature is computed at most once per evaluation (a local and a flag);
// each window group's cache is checked against τ once. What it does not inline it calls back
// into the kernel for (jitSync, jitFeature, jitMatches, jitEmit, jitAttr), in the
// interpreter's order, so both give the same records and the same state, byte for byte
// (test/rules-jit.test.ts). Ticks stay with the interpreter.
import * as L from '../../assembly/layout.js';
import * as F from '../../assembly/rules/format.js';
import { DamperError } from '../errors.js';
import { FeatureFn } from './program-spec.js';
import { MODULE_MAX_PAGES } from './memory.js';
import { F64, FunctionBody, I32, I64, ModuleWriter, Op, type ValType } from './wasm-writer.js';

/** Expression tree decoded from the rules section's postfix code. */
type Node =
  | { k: 'num'; v: number }
  | { k: 'feature'; f: number }
  | { k: 'attr'; slot: number }
  | { k: 'unary'; op: number; a: Node }
  | { k: 'binary'; op: number; a: Node; b: Node }
  | { k: 'fused'; op: number; f: number; v: number }
  | { k: 'and' | 'or'; a: Node; b: Node }
  | { k: 'bool'; a: Node };

interface Group { index: number; cache: number; recBytes: number; flags: number; bucketMs: number; windowSec: number; blockOff: number[] }
interface Feature { fn: number; group: Group | null; stateOff: number }
interface Rule {
  word: number; since: number; lastFire: number; forMs: number; cooldownMs: number;
  hasClear: boolean; matchCount: number; when: Node; clear: Node | null;
  reads: { kind: number; id: number }[];
}

/** What the compiled code needs of the program; read from shard memory, not from a spec. */
interface Program { features: Feature[]; rules: Rule[]; attrSlots: number }

const ERR_JIT = 'DAMPER_ERR_RULES_JIT';
const NAN_BITS = 0x7ff8000000000000n;
const ID_TAG = -(2n ** 63n);
const COMPARE: Record<number, number> = {
  [F.OP_LT]: Op.f64Lt, [F.OP_LE]: Op.f64Le, [F.OP_GT]: Op.f64Gt, [F.OP_GE]: Op.f64Ge, [F.OP_EQ]: Op.f64Eq,
  [F.OP_FEATURE_LT_NUM]: Op.f64Lt, [F.OP_FEATURE_LE_NUM]: Op.f64Le, [F.OP_FEATURE_GT_NUM]: Op.f64Gt,
  [F.OP_FEATURE_GE_NUM]: Op.f64Ge, [F.OP_FEATURE_EQ_NUM]: Op.f64Eq,
};
const ARITH: Record<number, number> = { [F.OP_ADD]: Op.f64Add, [F.OP_SUB]: Op.f64Sub, [F.OP_MUL]: Op.f64Mul, [F.OP_DIV]: Op.f64Div };
/** Windowed functions answered inline from a window cache record (the rest call jitFeature). */
const INLINE_WINDOW = new Set<number>([FeatureFn.Count, FeatureFn.Rate, FeatureFn.Sum, FeatureFn.Avg, FeatureFn.Min, FeatureFn.Max, FeatureFn.Delta]);

function bad(message: string): DamperError {
  return new DamperError(ERR_JIT, `rules compiler: ${message}`);
}

/** Decodes postfix code [pc, end) (end −1: up to OP_END) of the rules section into one tree. */
function decode(v: DataView, rules: number, pc: number, end: number): Node {
  const stack: Node[] = [];
  const pop = (): Node => {
    const n = stack.pop();
    if (!n) throw bad(`stack underflow at code offset ${pc - rules}`);
    return n;
  };
  for (;;) {
    if (end >= 0 && pc === end) break;
    if (end >= 0 && pc > end) throw bad('a skip ends inside an instruction');
    const op = v.getUint32(pc, true);
    const arg = v.getUint32(pc + 4, true);
    if (op === F.OP_END) {
      if (end >= 0) throw bad('OP_END inside a skip');
      break;
    }
    if (op === F.OP_NUM) { stack.push({ k: 'num', v: v.getFloat64(pc + 8, true) }); pc += 16; continue; }
    if (op === F.OP_FEATURE) { stack.push({ k: 'feature', f: arg }); pc += 8; continue; }
    if (op === F.OP_ATTR) { stack.push({ k: 'attr', slot: arg }); pc += 8; continue; }
    if (op >= F.OP_FEATURE_LT_NUM && op <= F.OP_FEATURE_NE_NUM) {
      stack.push({ k: 'fused', op, f: arg, v: v.getFloat64(pc + 8, true) });
      pc += 16;
      continue;
    }
    if (op === F.OP_AND_SKIP || op === F.OP_OR_SKIP) {
      const a = pop();
      const b = decode(v, rules, pc + 8, pc + 8 + arg);
      stack.push({ k: op === F.OP_AND_SKIP ? 'and' : 'or', a, b });
      pc += 8 + arg;
      continue;
    }
    if (op === F.OP_BOOL) { stack.push({ k: 'bool', a: pop() }); pc += 8; continue; }
    if (op === F.OP_ABS || op === F.OP_NEG || op === F.OP_NOT) { stack.push({ k: 'unary', op, a: pop() }); pc += 8; continue; }
    if (op >= F.OP_ADD && op <= F.OP_OR) {
      const b = pop();
      const a = pop();
      stack.push({ k: 'binary', op, a, b });
      pc += 8;
      continue;
    }
    throw bad(`unknown opcode ${op} at code offset ${pc - rules}`);
  }
  if (stack.length !== 1) throw bad(`expression leaves ${stack.length} values`);
  return stack[0];
}

/** The active program of a shard memory as the compiled code needs it; null when it has no rules. */
function readProgram(memory: WebAssembly.Memory): Program | null {
  const v = new DataView(memory.buffer);
  const h = L.HEADER_BASE;
  const active = v.getInt32(h + L.H_ACTIVE_PROG, true);
  if (active !== 0 && active !== 1) return null;
  const base = v.getUint32(h + (active === 0 ? L.H_PROG_BASE0 : L.H_PROG_BASE1), true);
  if (v.getUint32(base + L.P_RULES_LEN, true) === 0) return null;
  const plan = base + v.getUint32(base + L.P_PLAN_OFF, true);
  const rules = base + v.getUint32(base + L.P_RULES_OFF, true);
  const nRules = v.getUint32(rules + F.RH_RULE_COUNT, true);
  if (nRules === 0) return null;

  const groupsAt = plan + v.getUint32(plan + L.PL_GROUPS_OFF, true);
  const groups: Group[] = [];
  for (let i = 0; i < v.getUint32(plan + L.PL_N_GROUPS, true); i++) {
    const g = groupsAt + i * L.PG_BYTES;
    groups.push({
      index: i,
      cache: v.getUint32(g + L.PG_CACHE_OFF, true),
      recBytes: v.getUint32(g + L.PG_REC_BYTES, true),
      flags: v.getUint32(g + L.PG_FLAGS, true),
      bucketMs: v.getFloat64(g + L.PG_BUCKET_MS, true),
      windowSec: v.getFloat64(g + L.PG_WINDOW_SEC, true),
      blockOff: Array.from({ length: L.BLOCK_COUNT }, (_, b) => v.getUint8(g + L.PG_BLOCK_OFF + b)),
    });
  }
  const featuresAt = plan + v.getUint32(plan + L.PL_FEATURES_OFF, true);
  const features: Feature[] = [];
  for (let i = 0; i < v.getUint32(plan + L.PL_N_FEATURES, true); i++) {
    const f = featuresAt + i * L.PF_BYTES;
    const group = v.getUint32(f + L.PF_GROUP, true);
    features.push({ fn: v.getUint32(f + L.PF_FN, true), group: group === L.NO_PREV ? null : groups[group], stateOff: v.getUint32(f + L.PF_STATE_OFF, true) });
  }

  const list: Rule[] = [];
  for (let i = 0; i < nRules; i++) {
    const row = rules + F.RULES_HEADER_BYTES + i * F.RULE_BYTES;
    const flags = v.getUint32(row + F.RR_FLAGS, true);
    const clearAt = v.getUint32(row + F.RR_CLEAR, true);
    const hasClear = (flags & F.RULE_HAS_CLEAR) !== 0;
    const readsAt = rules + v.getUint32(row + F.RR_READS, true);
    list.push({
      word: v.getUint32(row + F.RR_WORD, true),
      since: v.getUint32(row + F.RR_SINCE, true),
      lastFire: v.getUint32(row + F.RR_LAST_FIRE, true),
      forMs: v.getFloat64(row + F.RR_FOR, true),
      cooldownMs: v.getFloat64(row + F.RR_COOLDOWN, true),
      hasClear,
      matchCount: v.getUint32(row + F.RR_MATCH_COUNT, true),
      when: decode(v, rules, rules + v.getUint32(row + F.RR_WHEN, true), -1),
      clear: hasClear ? decode(v, rules, rules + clearAt, -1) : null,
      reads: Array.from({ length: v.getUint32(row + F.RR_READS_COUNT, true) }, (_, r) => ({
        kind: v.getUint32(readsAt + r * F.READ_BYTES + F.RD_KIND, true),
        id: v.getUint32(readsAt + r * F.READ_BYTES + F.RD_ID, true),
      })),
    });
  }
  for (const r of list) {
    for (const n of [r.when, r.clear]) if (n) checkFeatures(n, features.length);
    for (const rd of r.reads) if (rd.kind === F.READ_FEATURE && rd.id >= features.length) throw bad(`read of feature ${rd.id} out of range`);
  }
  return { features, rules: list, attrSlots: v.getUint32(rules + F.RH_ATTR_SLOTS, true) };
}

function checkFeatures(n: Node, count: number): void {
  if ((n.k === 'feature' || n.k === 'fused') && n.f >= count) throw bad(`feature ${n.f} out of range`);
  if ('a' in n) checkFeatures(n.a, count);
  if ('b' in n) checkFeatures(n.b, count);
}

// Parameters of the compiled function, in the order the kernel's call_indirect passes them.
const P_DEV = 0, P_STATE = 1, P_SLOT = 2, P_EPOCH = 3, P_TS = 4, P_TAU = 5, P_NOW = 6;
const PARAMS: ValType[] = [I32, I32, I32, I32, F64, F64, F64];
// Kernel imports, function indices in import order.
const K_SYNC = 0, K_FEATURE = 1, K_MATCHES = 2, K_EMIT = 3, K_ATTR = 4;

/** Emits the evaluator of one program into `fn`. */
class Emitter {
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

  constructor(private readonly fn: FunctionBody, private readonly p: Program) {
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
   * answered as is; otherwise jitSync slides or scans.
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
    fn.if().i32(g.index).get(P_DEV).get(P_TAU).i32(0).call(K_SYNC).end();
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

/**
 * The compiled evaluator module of the program active in `memory`; null when the program has
 * no rules. Its export `evaluate(dev, state, slot, epoch, ts, tau, nowMs)` has the signature
 * the kernel's call_indirect uses; it imports `env.memory` and the kernel's jit* exports as
 * `kernel.*`.
 */
export function compileRulesModule(memory: WebAssembly.Memory): Uint8Array | null {
  const program = readProgram(memory);
  if (!program) return null;
  const m = new ModuleWriter();
  m.importFunction('kernel', 'jitSync', [I32, I32, F64, I32], []);
  m.importFunction('kernel', 'jitFeature', [I32, I32, F64], [F64]);
  m.importFunction('kernel', 'jitMatches', [I32, I32], [I32]);
  m.importFunction('kernel', 'jitEmit', [I32, I32, I32, I32, F64], [I32]);
  m.importFunction('kernel', 'jitAttr', [I32, I32], [F64]);
  m.importSharedMemory('env', 'memory', 1, MODULE_MAX_PAGES);
  const fn = new FunctionBody(PARAMS);
  const e = new Emitter(fn, program);
  program.rules.forEach((r, i) => e.rule(i, r));
  m.addFunction(PARAMS, [], fn, 'evaluate');
  return m.encode();
}

/** The kernel exports a compiled evaluator calls back. */
export interface JitImports {
  jitSync(group: number, dev: number, tau: number, refill: number): void;
  jitFeature(dev: number, feature: number, nowMs: number): number;
  jitMatches(rule: number, dev: number): number;
  jitEmit(rule: number, what: number, slot: number, epoch: number, ts: number): number;
  jitAttr(dev: number, attr: number): number;
}

// Compiled modules by their bytes, per thread: every shard of a worker runs the same program.
const modules = new Map<string, WebAssembly.Module>();
const MODULE_CACHE = 16;

/** Compiles and instantiates the evaluator of `memory`'s active program; null when it has no rules. */
export function instantiateRulesEvaluator(memory: WebAssembly.Memory, kernel: JitImports): unknown {
  const bytes = compileRulesModule(memory);
  if (!bytes) return null;
  const key = Buffer.from(bytes).toString('base64');
  let mod = modules.get(key);
  if (!mod) {
    mod = new WebAssembly.Module(bytes);
    if (modules.size >= MODULE_CACHE) modules.delete(modules.keys().next().value!);
    modules.set(key, mod);
  }
  const { jitSync, jitFeature, jitMatches, jitEmit, jitAttr } = kernel;
  const instance = new WebAssembly.Instance(mod, { env: { memory }, kernel: { jitSync, jitFeature, jitMatches, jitEmit, jitAttr } });
  return instance.exports.evaluate ?? null;
}
