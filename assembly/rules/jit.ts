// The seam a compiled rule evaluator calls back through. src/kernel/rules-jit/ turns the
// active program's rules section into a WebAssembly function of its own (straight-line code
// per rule, layout offsets and thresholds as constants); the host puts it into this module's
// function table at JIT_SLOT and applyBatch calls it after every applied event instead of
// rulesEvaluate. What the compiled code does not do inline — syncing a window cache, the
// rarer features, match selectors, reserving a transition record, attribute values of
// records — it calls these for, with the same semantics as the interpreter (docs/rule-vm.md).
// The same module applies the events to the sliding groups (bucket records and window
// caches): the host puts its `upkeep` at JIT_UPKEEP_SLOT, applyEvents calls it for every
// event and updateGroup runs only for the other groups.
import { RULES_HEADER_BYTES, RULE_BYTES, RR_MATCH_COUNT } from './format';
import { K_PLAN, K_RULES } from '../kernel/private';
import { planGroup } from '../kernel/plan';
import { cacheOf, syncCache } from '../kernel/window-cache';
import { queryDeviceFeature, attrOf } from '../kernel/seam';
import { headTransition, matches } from './index';


/** Brings window group `group`'s cache of device block `dev` to τ (by a slide or a scan; `refill`: a scan). */
export function jitSync(group: u32, dev: usize, tau: f64, refill: i32): void {
  const g = planGroup(<usize>load<u32>(K_PLAN), group);
  syncCache(g, dev, cacheOf(g, dev), tau, refill != 0);
}

/** A feature the compiled code does not compute inline, through the interpreter's path (queryDeviceFeature). */
export function jitFeature(dev: usize, feature: u32, nowMs: f64): f64 {
  return queryDeviceFeature(dev, feature, nowMs);
}

/** 1 when device block `dev` matches rule `rule`'s selector (its match clauses). */
export function jitMatches(rule: u32, dev: usize): i32 {
  const rules = <usize>load<u32>(K_RULES);
  const row = rules + RULES_HEADER_BYTES + <usize>rule * RULE_BYTES;
  return load<u32>(row + RR_MATCH_COUNT) == 0 || matches(rules, row, dev) ? 1 : 0;
}

/**
 * Reserves and heads a transition record of rule `rule` (STATE_FIRED / STATE_CLEARED) as the
 * interpreter's emit does; the compiled code then stores the values of the rule's reads at
 * OT_VALUES. 0 when the record does not fit (the apply loop checked room for a whole
 * evaluation, so this does not happen).
 */
export function jitEmit(rule: u32, what: u32, slot: u32, epoch: u32, ts: f64): usize {
  return headTransition(<usize>load<u32>(K_RULES) + RULES_HEADER_BYTES + <usize>rule * RULE_BYTES, rule, what, slot, epoch, ts);
}

/** Attribute `attr` (global id) of device block `dev` as a record value: NaN when absent or a string. */
export function jitAttr(dev: usize, attr: u32): f64 {
  return attrOf(dev, attr);
}

