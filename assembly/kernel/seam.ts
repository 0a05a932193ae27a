// What the rule VM (assembly/rules) calls back: feature values, device attributes and the
// outbox. Kept apart from index.ts so the VM can import it without an import cycle.
import { D_FLAGS, D_TAU, DF_CLOCK, PF_FN, PF_GROUP, NO_PREV, PL_N_FEATURES } from '../layout';
import { deviceAt, attrValueIn, attrMatchesIn } from './devices';
import { FN_COUNT, FN_SUM, FN_RATE } from './fns';
import { reserveOutbox, reserveTransition } from './outbox';
import { planFeature, planGroup } from './plan';
import { K_PLAN } from './private';
import { windowValue } from './query';
import { cachedWindowValue } from './window-cache';
import { scalarValue } from './scalars';

/** Feature `feature` of the active program for the device, at its clock τ (age at nowMs). Writes nothing. */
export function featureValue(slot: u32, feature: i32, nowMs: f64): f64 {
  return feature_(slot, feature, nowMs, false);
}

/**
 * The same value through the device's window cache (window-cache.ts), which it may fill:
 * for the rule VM and the draining task only, never concurrently with a drain of the shard.
 */
export function queryFeature(slot: u32, feature: i32, nowMs: f64): f64 {
  return feature_(slot, feature, nowMs, true);
}

/**
 * queryFeature for the rule VM, which already holds the device block `d` of a device with a
 * clock (it evaluates only after an event or, on ticks, for devices that sent one).
 */
// @ts-ignore: decorator
@inline
export function queryDeviceFeature(d: usize, feature: u32, nowMs: f64): f64 {
  const plan = <usize>load<u32>(K_PLAN);
  if (feature >= load<u32>(plan + PL_N_FEATURES)) return NaN;
  const f = planFeature(plan, feature);
  const group = load<u32>(f + PF_GROUP);
  if (group == NO_PREV) return scalarValue(f, d, nowMs);
  return cachedWindowValue(load<u32>(f + PF_FN), planGroup(plan, group), d, load<f64>(d + D_TAU));
}

// @ts-ignore: decorator
@inline
function feature_(slot: u32, feature: i32, nowMs: f64, cached: bool): f64 {
  const plan = <usize>load<u32>(K_PLAN);
  if (plan == 0 || feature < 0 || <u32>feature >= load<u32>(plan + PL_N_FEATURES)) return NaN;
  const f = planFeature(plan, <u32>feature);
  const fn = load<u32>(f + PF_FN);
  let d = deviceAt(slot);
  if (d != 0 && (load<u32>(d + D_FLAGS) & DF_CLOCK) == 0) d = 0;
  const group = load<u32>(f + PF_GROUP);
  if (group == NO_PREV) return scalarValue(f, d, nowMs);
  if (d == 0) return fn == FN_COUNT || fn == FN_SUM || fn == FN_RATE ? 0 : NaN;
  const g = planGroup(plan, group);
  const tau = load<f64>(d + D_TAU);
  return cached ? cachedWindowValue(fn, g, d, tau) : windowValue(fn, g, d, tau);
}


/** Numeric attribute of the device; NaN when absent or a string. */
export function deviceAttr(slot: u32, attr: u32): f64 {
  return attrValueIn(deviceAt(slot), attr);
}

/** True when the device's attribute has this kind (ATTR_*) and value (number or string id). */
export function deviceAttrIs(slot: u32, attr: u32, kind: u32, value: f64): bool {
  return attrMatchesIn(deviceAt(slot), attr, kind, value);
}

/** deviceAttr for the rule VM, from the device block `d`. */
export function attrOf(d: usize, attr: u32): f64 {
  return attrValueIn(d, attr);
}

/** deviceAttrIs for the rule VM, from the device block `d`. */
export function attrIsOf(d: usize, attr: u32, kind: u32, value: f64): bool {
  return attrMatchesIn(d, attr, kind, value);
}

/** Reserves bytes at the end of the outbox for a record; 0 when they do not fit. */
export function outboxReserve(bytes: i32): usize {
  return reserveOutbox(bytes);
}

/** outboxReserve for a transition record, which it also counts (H_TRANSITIONS). */
export function transitionReserve(bytes: i32): usize {
  return reserveTransition(bytes);
}
