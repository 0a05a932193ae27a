// Expression evaluator of the rule VM: postfix code over f64 (assembly/rules/format.ts).
// The stack and the per-evaluation feature cache live in the device's rule state, so the
// VM keeps nothing outside shard memory and any worker may run any shard. The top of the
// stack stays in a local; the memory stack holds only what lies below it.
import {
  OP_END, OP_NUM, OP_FEATURE, OP_ATTR, OP_ABS, OP_NEG, OP_NOT, OP_ADD, OP_SUB, OP_MUL, OP_DIV,
  OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE, OP_AND, OP_OR,
  OP_FEATURE_LT_NUM, OP_FEATURE_LE_NUM, OP_FEATURE_GT_NUM, OP_FEATURE_GE_NUM, OP_FEATURE_EQ_NUM, OP_FEATURE_NE_NUM,
  OP_AND_SKIP, OP_OR_SKIP, OP_BOOL, RR_ATOM0, RR_ATOM1, ATOM_OP, ATOM_FEATURE, ATOM_ATTR, ATOM_NUM, NO_ATTR, RULE_TWO_ATOMS,
} from './format';
import { queryDeviceFeature } from './host';

/** Bits of the canonical quiet NaN: an attribute slot holds the number's bits XOR these (format.ts). */
export const ATTR_SLOT_NAN: u64 = 0x7ff8000000000000;

/** Attribute slot `k` of the rule state's slots at `attrs`: the number, NaN when absent or a string. */
// @ts-ignore: decorator
@inline
export function attrSlot(attrs: usize, k: u32): f64 {
  return reinterpret<f64>(load<u64>(attrs + (<usize>k << 3)) ^ ATTR_SLOT_NAN);
}

/** Writes attribute slot `k`: the inverse of attrSlot. */
// @ts-ignore: decorator
@inline
export function setAttrSlot(attrs: usize, k: u32, v: f64): void {
  store<u64>(attrs + (<usize>k << 3), reinterpret<u64>(v) ^ ATTR_SLOT_NAN);
}

/** Rule truth: non-zero and not NaN. */
// @ts-ignore: decorator
@inline
export function truthy(v: f64): bool {
  return v != 0 && v == v;
}

// @ts-ignore: decorator
@inline
function b2f(b: bool): f64 {
  return b ? 1.0 : 0.0;
}

/** The feature's value for this evaluation: computed once, then read from the cache. */
// @ts-ignore: decorator
@inline
export function cachedFeature(dev: usize, cells: usize, stamps: usize, gen: u32, feature: u32, nowMs: f64): f64 {
  const stamp = stamps + (<usize>feature << 2);
  const cell = cells + (<usize>feature << 3);
  if (load<u32>(stamp) == gen) return load<f64>(cell);
  const v = queryDeviceFeature(dev, feature, nowMs);
  store<f64>(cell, v);
  store<u32>(stamp, gen);
  return v;
}

/** `a CMP c` for a fused opcode (OP_FEATURE_*_NUM); every comparison with NaN is false. */
// @ts-ignore: decorator
@inline
export function fusedCompare(op: u32, a: f64, c: f64): bool {
  if (op == OP_FEATURE_GT_NUM) return a > c;
  if (op == OP_FEATURE_LT_NUM) return a < c;
  if (op == OP_FEATURE_GE_NUM) return a >= c;
  if (op == OP_FEATURE_LE_NUM) return a <= c;
  if (op == OP_FEATURE_EQ_NUM) return a == c;
  return a == a && c == c && a != c;
}

/** One row atom (format.ts): `feature CMP number`, or `feature CMP device.NAME + number`. */
// @ts-ignore: decorator
@inline
function atomTrue(a: usize, dev: usize, attrs: usize, cells: usize, stamps: usize, gen: u32, nowMs: f64): bool {
  const v = cachedFeature(dev, cells, stamps, gen, load<u32>(a + ATOM_FEATURE), nowMs);
  const attr = load<u32>(a + ATOM_ATTR);
  const c = attr == NO_ATTR ? load<f64>(a + ATOM_NUM) : attrSlot(attrs, attr) + load<f64>(a + ATOM_NUM);
  return fusedCompare(load<u32>(a + ATOM_OP), v, c);
}

/** The `when` of a RULE_FUSED_WHEN rule from its row atoms; the second is not computed when the first is false. */
// @ts-ignore: decorator
@inline
export function fusedWhen(row: usize, flags: u32, dev: usize, attrs: usize, cells: usize, stamps: usize, gen: u32, nowMs: f64): bool {
  const first = atomTrue(row + RR_ATOM0, dev, attrs, cells, stamps, gen, nowMs);
  return first && (flags & RULE_TWO_ATOMS) != 0 ? atomTrue(row + RR_ATOM1, dev, attrs, cells, stamps, gen, nowMs) : first;
}

/**
 * Evaluates the code at `pc` (absolute) for device block `dev`, whose attribute slots are at
 * `attrs`. `stack` is the shard's expression stack; `cells`/`stamps` its feature cache,
 * valid for entries stamped `gen`.
 */
// @ts-ignore: decorator
@inline
export function evalExpr(pc: usize, dev: usize, attrs: usize, stack: usize, cells: usize, stamps: usize, gen: u32, nowMs: f64): f64 {
  let sp = stack; // next free cell below the top
  let top: f64 = NaN;
  while (true) {
    const op = load<i32>(pc);
    switch (op) {
      case OP_END: return top;
      case OP_NUM: {
        store<f64>(sp, top); sp += 8;
        top = load<f64>(pc, 8);
        pc += 16;
        continue;
      }
      case OP_FEATURE: {
        store<f64>(sp, top); sp += 8;
        top = cachedFeature(dev, cells, stamps, gen, load<u32>(pc, 4), nowMs);
        pc += 8;
        continue;
      }
      case OP_ATTR: {
        store<f64>(sp, top); sp += 8;
        top = attrSlot(attrs, load<u32>(pc, 4));
        pc += 8;
        continue;
      }
      case OP_FEATURE_LT_NUM:
      case OP_FEATURE_LE_NUM:
      case OP_FEATURE_GT_NUM:
      case OP_FEATURE_GE_NUM:
      case OP_FEATURE_EQ_NUM:
      case OP_FEATURE_NE_NUM: {
        store<f64>(sp, top); sp += 8;
        top = b2f(fusedCompare(load<u32>(pc), cachedFeature(dev, cells, stamps, gen, load<u32>(pc, 4), nowMs), load<f64>(pc, 8)));
        pc += 16;
        continue;
      }
      case OP_AND_SKIP: {
        if (!truthy(top)) { top = 0; pc += 8 + <usize>load<u32>(pc, 4); continue; }
        sp -= 8; top = load<f64>(sp);
        pc += 8;
        continue;
      }
      case OP_OR_SKIP: {
        if (truthy(top)) { top = 1; pc += 8 + <usize>load<u32>(pc, 4); continue; }
        sp -= 8; top = load<f64>(sp);
        pc += 8;
        continue;
      }
      case OP_BOOL: top = b2f(truthy(top)); pc += 8; continue;
      case OP_ABS: top = Math.abs(top); pc += 8; continue;
      case OP_NEG: top = -top; pc += 8; continue;
      case OP_NOT: top = b2f(!truthy(top)); pc += 8; continue;
      default: break;
    }
    // binary: left operand below the top
    sp -= 8;
    const a = load<f64>(sp);
    const b = top;
    switch (op) {
      case OP_ADD: top = a + b; break;
      case OP_SUB: top = a - b; break;
      case OP_MUL: top = a * b; break;
      case OP_DIV: top = a / b; break;
      case OP_LT: top = b2f(a < b); break;
      case OP_LE: top = b2f(a <= b); break;
      case OP_GT: top = b2f(a > b); break;
      case OP_GE: top = b2f(a >= b); break;
      case OP_EQ: top = b2f(a == b); break;
      case OP_NE: top = b2f(a == a && b == b && a != b); break;
      case OP_AND: top = b2f(truthy(a) && truthy(b)); break;
      case OP_OR: top = b2f(truthy(a) || truthy(b)); break;
      default: return NaN; // not produced by the encoder
    }
    pc += 8;
  }
  return top;
}
