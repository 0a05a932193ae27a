// Rules section of the program binary (layout in assembly/rules/format.ts, prose in
// docs/rule-vm.md). Owned by the rule VM. Expressions become postfix code over f64 with
// inline operands; `prev` (the program active in the shards when this one is installed)
// gives each rule the index of its predecessor with the same key, so the kernel keeps its
// state across a reload without ever seeing a string.
import * as F from '../../assembly/rules/format.js';
import { ATTR_NUMBER, ATTR_STRING, OT_VALUES } from '../../assembly/layout.js';
import type { Expr, ProgramSpec, RuleSpec } from './program-spec.js';
import { DamperError } from '../errors.js';

const BINARY_OPS: Record<string, number> = {
  '+': F.OP_ADD, '-': F.OP_SUB, '*': F.OP_MUL, '/': F.OP_DIV,
  '<': F.OP_LT, '<=': F.OP_LE, '>': F.OP_GT, '>=': F.OP_GE, '==': F.OP_EQ, '!=': F.OP_NE,
  and: F.OP_AND, or: F.OP_OR,
};
const FUSED_OPS: Record<string, number> = {
  '<': F.OP_FEATURE_LT_NUM, '<=': F.OP_FEATURE_LE_NUM, '>': F.OP_FEATURE_GT_NUM,
  '>=': F.OP_FEATURE_GE_NUM, '==': F.OP_FEATURE_EQ_NUM, '!=': F.OP_FEATURE_NE_NUM,
};
const UNARY_OPS: Record<string, number> = { abs: F.OP_ABS, neg: F.OP_NEG, not: F.OP_NOT };

/** Growable little-endian byte writer; every item it writes keeps 8-byte alignment. */
class Writer {
  private buf = new ArrayBuffer(1024);
  private view = new DataView(this.buf);
  length = 0;

  private ensure(bytes: number): void {
    if (this.length + bytes <= this.buf.byteLength) return;
    let size = this.buf.byteLength * 2;
    while (size < this.length + bytes) size *= 2;
    const next = new ArrayBuffer(size);
    new Uint8Array(next).set(new Uint8Array(this.buf, 0, this.length));
    this.buf = next;
    this.view = new DataView(next);
  }
  reserve(bytes: number): number {
    this.ensure(bytes);
    const at = this.length;
    new Uint8Array(this.buf, at, bytes).fill(0);
    this.length += bytes;
    return at;
  }
  u32(at: number, v: number): void { this.view.setUint32(at, v >>> 0, true); }
  i32(at: number, v: number): void { this.view.setInt32(at, v | 0, true); }
  f64(at: number, v: number): void { this.view.setFloat64(at, v, true); }
  bytes(): Uint8Array { return new Uint8Array(this.buf.slice(0, this.length)); }
}

/** What expressions are encoded against: the feature count and each attribute's slot (ruleAttrIds). */
interface CodeContext { nFeatures: number; attrSlot: Map<number, number> }

/** Appends the postfix code of `e`; returns the stack depth it needs. */
function emitExpr(w: Writer, e: Expr, ctx: CodeContext): number {
  const nFeatures = ctx.nFeatures;
  switch (e.op) {
    case 'num': {
      const at = w.reserve(F.INSN_BYTES + 8);
      w.u32(at, F.OP_NUM);
      w.f64(at + F.INSN_BYTES, e.value);
      return 1;
    }
    case 'feature': {
      if (!(e.index >= 0 && e.index < nFeatures)) throw badSpec(`feature index ${e.index} out of range`);
      const at = w.reserve(F.INSN_BYTES);
      w.u32(at, F.OP_FEATURE);
      w.u32(at + 4, e.index);
      return 1;
    }
    case 'attr': {
      const at = w.reserve(F.INSN_BYTES);
      w.u32(at, F.OP_ATTR);
      w.u32(at + 4, ctx.attrSlot.get(e.attr)!);
      return 1;
    }
    case 'abs':
    case 'neg':
    case 'not': {
      const depth = emitExpr(w, e.arg, ctx);
      w.u32(w.reserve(F.INSN_BYTES), UNARY_OPS[e.op]);
      return depth;
    }
    case 'and':
    case 'or': {
      const left = emitExpr(w, e.left, ctx);
      const jump = w.reserve(F.INSN_BYTES);
      w.u32(jump, e.op === 'and' ? F.OP_AND_SKIP : F.OP_OR_SKIP);
      const right = emitExpr(w, e.right, ctx);
      w.u32(w.reserve(F.INSN_BYTES), F.OP_BOOL);
      w.u32(jump + 4, w.length - (jump + F.INSN_BYTES));
      // the left value is dropped before the right side runs
      return Math.max(left, right);
    }
    default: {
      const op = BINARY_OPS[e.op];
      if (op === undefined) throw badSpec(`unknown expression op '${(e as { op: string }).op}'`);
      const fused = FUSED_OPS[e.op];
      if (fused !== undefined && e.left.op === 'feature' && e.right.op === 'num') {
        if (!(e.left.index >= 0 && e.left.index < nFeatures)) throw badSpec(`feature index ${e.left.index} out of range`);
        const at = w.reserve(F.INSN_BYTES + 8);
        w.u32(at, fused);
        w.u32(at + 4, e.left.index);
        w.f64(at + F.INSN_BYTES, e.right.value);
        return 1;
      }
      const left = emitExpr(w, e.left, ctx);
      const right = emitExpr(w, e.right, ctx);
      w.u32(w.reserve(F.INSN_BYTES), op);
      return Math.max(left, right + 1);
    }
  }
}

interface Atom { op: number; feature: number; attr: number; num: number }

/**
 * `feature CMP number` or `feature CMP device.NAME ± number` as a row atom; null for any
 * other shape. The atom computes `attr + num` where the code computes `attr + n`, `n + attr`
 * or `attr − n` (a − n is a + (−n) in IEEE arithmetic), so both give the same bits.
 */
function atomOf(e: Expr): Atom | null {
  if (!(e.op in FUSED_OPS) || !('left' in e) || e.left.op !== 'feature') return null;
  const op = FUSED_OPS[e.op];
  const feature = e.left.index;
  const r = e.right;
  if (r.op === 'num') return { op, feature, attr: F.NO_ATTR, num: r.value };
  if (r.op === 'neg' && r.arg.op === 'num') return { op, feature, attr: F.NO_ATTR, num: -r.arg.value };
  if (r.op === 'attr') return { op, feature, attr: r.attr, num: 0 };
  if (r.op === '+' && r.left.op === 'attr' && r.right.op === 'num') return { op, feature, attr: r.left.attr, num: r.right.value };
  if (r.op === '+' && r.left.op === 'num' && r.right.op === 'attr') return { op, feature, attr: r.right.attr, num: r.left.value };
  if (r.op === '-' && r.left.op === 'attr' && r.right.op === 'num') return { op, feature, attr: r.left.attr, num: -r.right.value };
  return null;
}

/** The row atoms of a `when` that is one atom or two joined by `and`; null otherwise. */
function fusedAtoms(when: Expr): Atom[] | null {
  const one = atomOf(when);
  if (one) return [one];
  if (when.op !== 'and') return null;
  const a = atomOf(when.left), b = atomOf(when.right);
  return a && b ? [a, b] : null;
}

function emitCode(w: Writer, e: Expr, ctx: CodeContext): { at: number; depth: number } {
  const at = w.length;
  const depth = emitExpr(w, e, ctx);
  w.u32(w.reserve(F.INSN_BYTES), F.OP_END);
  return { at, depth };
}

function badSpec(message: string): DamperError {
  return new DamperError('DAMPER_ERR_BAD_PROGRAM', message);
}

function emitRule(w: Writer, rule: RuleSpec, index: number, prevByKey: Map<string, number>, ctx: CodeContext): number {
  const nFeatures = ctx.nFeatures;
  const row = F.RULES_HEADER_BYTES + index * F.RULE_BYTES;
  const when = emitCode(w, rule.when, ctx);
  let depth = when.depth;
  w.u32(row + F.RR_WHEN, when.at);
  if (rule.clear) {
    const clear = emitCode(w, rule.clear, ctx);
    depth = Math.max(depth, clear.depth);
    w.u32(row + F.RR_CLEAR, clear.at);
  }
  w.f64(row + F.RR_FOR, rule.forMs);
  w.f64(row + F.RR_COOLDOWN, rule.cooldownMs);
  const atoms = fusedAtoms(rule.when);
  atoms?.forEach((a, k) => {
    const at = row + (k === 0 ? F.RR_ATOM0 : F.RR_ATOM1);
    w.u32(at + F.ATOM_OP, a.op);
    w.u32(at + F.ATOM_FEATURE, a.feature);
    w.u32(at + F.ATOM_ATTR, a.attr === F.NO_ATTR ? F.NO_ATTR : ctx.attrSlot.get(a.attr)!);
    w.f64(at + F.ATOM_NUM, a.num);
  });
  const simple = atoms !== null && !rule.clear && rule.match.length === 0;
  w.u32(row + F.RR_FLAGS, (rule.usesAge ? F.RULE_USES_AGE : 0) | (rule.clear ? F.RULE_HAS_CLEAR : 0)
    | (atoms ? F.RULE_FUSED_WHEN : 0) | (simple ? F.RULE_SIMPLE : 0) | (atoms?.length === 2 ? F.RULE_TWO_ATOMS : 0));
  w.i32(row + F.RR_PREV, prevByKey.get(rule.key) ?? -1);

  if (rule.match.length > 0) {
    w.u32(row + F.RR_MATCH, w.length);
    w.u32(row + F.RR_MATCH_COUNT, rule.match.length);
    for (const clause of rule.match) {
      const at = w.reserve(F.MC_HEADER_BYTES + clause.values.length * F.MV_BYTES);
      w.u32(at + F.MC_ATTR, clause.attr);
      w.u32(at + F.MC_COUNT, clause.values.length);
      clause.values.forEach((v, i) => {
        const vat = at + F.MC_HEADER_BYTES + i * F.MV_BYTES;
        w.u32(vat + F.MV_KIND, v.kind === 'string' ? ATTR_STRING : ATTR_NUMBER);
        w.f64(vat + F.MV_VALUE, v.value);
      });
    }
  }

  const reads = w.reserve(Math.max(1, rule.reads.length) * F.READ_BYTES);
  w.u32(row + F.RR_READS, reads);
  w.u32(row + F.RR_READS_COUNT, rule.reads.length);
  rule.reads.forEach((r, i) => {
    if (r.kind === 'feature' && !(r.index >= 0 && r.index < nFeatures)) throw badSpec(`read of feature ${r.index} out of range`);
    w.u32(reads + i * F.READ_BYTES + F.RD_KIND, r.kind === 'feature' ? F.READ_FEATURE : F.READ_ATTR);
    w.u32(reads + i * F.READ_BYTES + F.RD_ID, r.kind === 'feature' ? r.index : r.attr);
  });
  return depth;
}

const align8 = (n: number): number => (n + 7) & ~7;

/**
 * The attributes rule expressions read as numbers (`device.NAME` in when and clear), in
 * order of first use: each gets an attribute slot in the device's rule state, which the
 * kernel keeps equal to the attribute (format.ts), so evaluation reads one word instead of
 * walking the attribute table (match selectors and record values still read the table).
 */
export function ruleAttrIds(rules: readonly RuleSpec[]): number[] {
  const ids: number[] = [];
  const walk = (e: Expr): void => {
    if (e.op === 'attr') { if (!ids.includes(e.attr)) ids.push(e.attr); return; }
    if ('arg' in e) walk(e.arg);
    if ('left' in e) { walk(e.left); walk(e.right); }
  };
  for (const r of rules) { walk(r.when); if (r.clear) walk(r.clear); }
  return ids;
}

/**
 * Encodes the rules of `spec`. `prev` is the program the shards run when this one is
 * switched in (null for the first): rules with an equal `key` keep their state.
 */
export function encodeRules(spec: ProgramSpec, prev: ProgramSpec | null): Uint8Array {
  const w = new Writer();
  w.reserve(F.RULES_HEADER_BYTES + spec.rules.length * F.RULE_BYTES);
  const prevByKey = new Map<string, number>();
  prev?.rules.forEach((r, i) => { if (!prevByKey.has(r.key)) prevByKey.set(r.key, i); });

  const nFeatures = spec.features.length;
  const state = ruleStateLayout(spec.rules);
  const attrIds = state.attrIds;
  const ctx: CodeContext = { nFeatures, attrSlot: new Map(attrIds.map((id, k) => [id, k])) };
  let depth = 1;
  let ageRules = 0;
  let maxOut = 0;
  spec.rules.forEach((rule, i) => {
    depth = Math.max(depth, emitRule(w, rule, i, prevByKey, ctx));
    if (rule.usesAge) ageRules++;
    maxOut += OT_VALUES + 8 * rule.reads.length;
  });

  spec.rules.forEach((_, i) => {
    const row = F.RULES_HEADER_BYTES + i * F.RULE_BYTES;
    w.u32(row + F.RR_WORD, 4 * i);
    w.u32(row + F.RR_SINCE, state.since[i]);
    w.u32(row + F.RR_LAST_FIRE, state.lastFire[i]);
  });
  const stateBytes = state.bytes;
  const attrSlots = state.attrSlots;

  // Shared VM scratch: stack, feature cache, stamps.
  const stackOff = F.VS_DATA;
  const cacheOff = stackOff + depth * 8;
  const stampOff = cacheOff + nFeatures * 8;
  if (stampOff + nFeatures * 4 > F.VM_SCRATCH_BYTES) {
    throw badSpec(`${nFeatures} features with expressions ${depth} deep exceed the rule VM scratch of ${F.VM_SCRATCH_BYTES} bytes`);
  }

  w.u32(F.RH_RULE_COUNT, spec.rules.length);
  w.u32(F.RH_STATE_BYTES, stateBytes);
  w.u32(F.RH_MAX_OUT, maxOut);
  w.u32(F.RH_FEATURES, nFeatures);
  w.u32(F.RH_STACK_OFF, stackOff);
  w.u32(F.RH_CACHE_OFF, cacheOff);
  w.u32(F.RH_STAMP_OFF, stampOff);
  w.u32(F.RH_STACK_DEPTH, depth);
  w.u32(F.RH_AGE_RULES, ageRules);
  w.u32(F.RH_ATTR_SLOTS, attrSlots);
  w.u32(F.RH_ATTR_COUNT, attrIds.length);
  const list = w.reserve(Math.max(1, attrIds.length) * 4);
  attrIds.forEach((id, k) => w.u32(list + 4 * k, id));
  w.u32(F.RH_ATTR_LIST, list);
  return w.bytes();
}

/**
 * Per-device rule state: a u32 word per rule, the attribute slots, then the times only
 * rules with for/cooldown need (0: none). The encoder writes these offsets into the rows;
 * the plan reserves `bytes` (ruleStateBytes), so both come from here.
 */
export function ruleStateLayout(rules: readonly RuleSpec[]): { attrIds: number[]; attrSlots: number; since: number[]; lastFire: number[]; bytes: number } {
  const attrIds = ruleAttrIds(rules);
  const attrSlots = align8(4 * rules.length);
  let at = attrSlots + 8 * attrIds.length;
  const since: number[] = [];
  const lastFire: number[] = [];
  for (const rule of rules) {
    since.push(rule.forMs > 0 ? (at += 8) - 8 : 0);
    lastFire.push(rule.cooldownMs > 0 ? (at += 8) - 8 : 0);
  }
  return { attrIds, attrSlots, since, lastFire, bytes: at };
}

/** Rule state bytes per device of `rules` (RH_STATE_BYTES of their rules section). */
export function ruleStateBytes(rules: readonly RuleSpec[]): number {
  return ruleStateLayout(rules).bytes;
}
