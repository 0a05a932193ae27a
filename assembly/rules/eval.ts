// Expression evaluator of the rule VM: postfix code over f64 (assembly/rules/format.ts).
// The stack and the per-evaluation feature cache live in the device's rule state, so the
// VM keeps nothing outside shard memory and any worker may run any shard.
import {
  OP_END, OP_NUM, OP_FEATURE, OP_ATTR, OP_ABS, OP_NEG, OP_NOT, OP_ADD, OP_SUB, OP_MUL, OP_DIV,
  OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE, OP_AND, OP_OR, INSN_BYTES,
  RH_STACK_OFF, RH_CACHE_OFF, RH_STAMP_OFF, SS_GEN,
} from './format';
import { featureValue, deviceAttr } from './host';

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
export function cachedFeature(rules: usize, slot: u32, state: usize, feature: u32, nowMs: f64): f64 {
  const stamp = state + <usize>load<u32>(rules + RH_STAMP_OFF) + (<usize>feature << 2);
  const cell = state + <usize>load<u32>(rules + RH_CACHE_OFF) + (<usize>feature << 3);
  const gen = load<u32>(state + SS_GEN);
  if (load<u32>(stamp) == gen) return load<f64>(cell);
  const v = featureValue(slot, <i32>feature, nowMs);
  store<f64>(cell, v);
  store<u32>(stamp, gen);
  return v;
}

/** Evaluates the code at `rules + code` for one device. */
export function evalExpr(rules: usize, code: u32, slot: u32, state: usize, nowMs: f64): f64 {
  const base = state + <usize>load<u32>(rules + RH_STACK_OFF);
  let sp = base; // next free cell
  let pc = rules + <usize>code;
  while (true) {
    const op = load<i32>(pc);
    const arg = load<u32>(pc, 4);
    pc += INSN_BYTES;
    if (op == OP_END) break;
    if (op == OP_NUM) {
      store<f64>(sp, load<f64>(pc));
      pc += 8;
      sp += 8;
      continue;
    }
    if (op == OP_FEATURE) {
      store<f64>(sp, cachedFeature(rules, slot, state, arg, nowMs));
      sp += 8;
      continue;
    }
    if (op == OP_ATTR) {
      store<f64>(sp, deviceAttr(slot, arg));
      sp += 8;
      continue;
    }
    if (op <= OP_NOT) {
      const a = load<f64>(sp - 8);
      let r: f64;
      if (op == OP_ABS) r = Math.abs(a);
      else if (op == OP_NEG) r = -a;
      else r = b2f(!truthy(a));
      store<f64>(sp - 8, r);
      continue;
    }
    sp -= 8;
    const b = load<f64>(sp);
    const a = load<f64>(sp - 8);
    let r: f64;
    switch (op) {
      case OP_ADD: r = a + b; break;
      case OP_SUB: r = a - b; break;
      case OP_MUL: r = a * b; break;
      case OP_DIV: r = a / b; break;
      case OP_LT: r = b2f(a < b); break;
      case OP_LE: r = b2f(a <= b); break;
      case OP_GT: r = b2f(a > b); break;
      case OP_GE: r = b2f(a >= b); break;
      case OP_EQ: r = b2f(a == b); break;
      case OP_NE: r = b2f(a == a && b == b && a != b); break;
      case OP_AND: r = b2f(truthy(a) && truthy(b)); break;
      case OP_OR: r = b2f(truthy(a) || truthy(b)); break;
      default: r = NaN;
    }
    store<f64>(sp - 8, r);
  }
  return sp > base ? load<f64>(sp - 8) : NaN;
}
