// Kernel entry points (see docs/internals.md and docs/kernel.md). This file only wires;
// the feature kernel lives in kernel/, the rule VM in rules/.
import {
  HEADER_BASE, H_MAGIC, LAYOUT_MAGIC, H_KERNEL_READY, H_ARENA_BASE, H_DEVICES, H_OUT_LEN, H_OUT_SIZE, D_FLAGS, D_TAU, DF_EXISTS, DF_CLOCK,
  ATTR_ENTRY_BYTES, DEVICE_HEADER_BYTES, H_ACTIVE_EPOCH, PAGE,
} from './layout';
import { rulesEvaluate, rulesState, rulesFillAttrs } from './rules/index';
import { applyEvents } from './kernel/apply';
import { deviceAt, deviceFor, touchDevice, setDeviceAttrs, freeAttrs } from './kernel/devices';
import { K_ARENA_TOP, K_RULES, K_MAX_OUT, K_RULE_OFF, K_SLOT_LIMIT, K_STRIDE, MAX_SLOTS } from './kernel/private';
import { setGeometry, switchTo } from './kernel/switch';

/** Sets up the kernel-private header once per memory; concurrent callers wait for the first. */
export function init(): void {
  // without the runtime's header the arena base is unknown: fail loudly instead of overwriting memory
  if (load<u32>(HEADER_BASE + H_MAGIC) != LAYOUT_MAGIC) unreachable();
  const ready = HEADER_BASE + H_KERNEL_READY;
  const was = atomic.cmpxchg<i32>(ready, 0, 2);
  if (was == 1) return;
  if (was == 2) {
    while (atomic.load<i32>(ready) != 1) atomic.wait<i32>(ready, 2, 1000000);
    return;
  }
  store<u32>(K_ARENA_TOP, (load<u32>(HEADER_BASE + H_ARENA_BASE) + 15) & ~15);
  setGeometry(DEVICE_HEADER_BYTES);
  store<u32>(K_RULE_OFF, DEVICE_HEADER_BYTES);
  atomic.store<i32>(ready, 1);
  atomic.notify(ready);
}

/** `jit` 1: evaluate rules with the compiled evaluator at JIT_SLOT of the table (src/kernel/kernel.ts passes it); 0 or absent: the interpreter. */
export function applyBatch(from: i32, to: i32, nowMs: f64, jit: i32): i32 {
  return applyEvents(from, to, nowMs, jit != 0);
}

export function tick(fromSlot: i32, nowMs: f64): i32 {
  const limit = <i32>load<u32>(K_SLOT_LIMIT);
  const rules = <usize>load<u32>(K_RULES);
  if (rules == 0 || fromSlot < 0) return limit;
  const maxOut = <i32>load<u32>(K_MAX_OUT);
  const epoch = load<u32>(HEADER_BASE + H_ACTIVE_EPOCH);
  const ruleOff = <usize>load<u32>(K_RULE_OFF);
  for (let slot = fromSlot; slot < limit; slot++) {
    const d = deviceAt(<u32>slot);
    // a device that never sent an event has no clock and no rule state to advance: its
    // `age` is +∞ only because nothing arrived yet, not because it went silent
    if (d == 0 || (load<u32>(d + D_FLAGS) & (DF_EXISTS | DF_CLOCK)) != (DF_EXISTS | DF_CLOCK)) continue;
    const before = load<i32>(HEADER_BASE + H_OUT_LEN);
    if (maxOut > 0 && before > 0 && load<i32>(HEADER_BASE + H_OUT_SIZE) - before < maxOut) return slot;
    const tau = load<f64>(d + D_TAU);
    // rule time on a tick is max(τ, now) (docs/internals.md)
    const ts = tau > nowMs ? tau : nowMs;
    rulesEvaluate(rules, epoch, <u32>slot, d, d + ruleOff, ts, tau, nowMs, true);
  }
  return limit;
}

export function setAttrs(slot: u32, ptr: usize, n: i32): void {
  if (n < 0 || slot >= MAX_SLOTS) return;
  const end: u64 = <u64>ptr + <u64>n * ATTR_ENTRY_BYTES;
  if (end > <u64>memory.size() * PAGE) return;
  const d = deviceFor(slot);
  if (d == 0) return;
  touchDevice(slot, d);
  setDeviceAttrs(d, ptr, <u32>n);
  // the rule VM reads numeric attributes from slots in the rule state (rules/format.ts)
  rulesFillAttrs(<usize>load<u32>(K_RULES), d, d + <usize>load<u32>(K_RULE_OFF));
}

export function removeDevice(slot: u32): void {
  const d = deviceAt(slot);
  if (d == 0 || (load<u32>(d + D_FLAGS) & DF_EXISTS) == 0) return;
  freeAttrs(d);
  memory.fill(d, 0, <usize>load<u32>(K_STRIDE));
  store<f64>(HEADER_BASE + H_DEVICES, load<f64>(HEADER_BASE + H_DEVICES) - 1);
}

export function switchProgram(progSlot: i32): void {
  switchTo(progSlot);
}

export function ruleState(slot: u32, rule: i32): i32 {
  const rules = <usize>load<u32>(K_RULES);
  const d = deviceAt(slot);
  if (rules == 0 || d == 0 || (load<u32>(d + D_FLAGS) & DF_EXISTS) == 0) return -1;
  return rulesState(rules, d, d + <usize>load<u32>(K_RULE_OFF), rule);
}

export function deviceClock(slot: u32): f64 {
  const d = deviceAt(slot);
  if (d == 0 || (load<u32>(d + D_FLAGS) & DF_CLOCK) == 0) return NaN;
  return load<f64>(d + D_TAU);
}

// ---- the seam the rule VM calls back through (assembly/kernel/seam.ts) ----
export { featureValue, queryFeature, deviceAttr, deviceAttrIs, outboxReserve } from './kernel/seam';

// ---- what a compiled rule evaluator calls back (assembly/rules/jit.ts) ----
export { jitSync, jitFeature, jitMatches, jitEmit, jitAttr } from './rules/jit';
