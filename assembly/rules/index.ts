// Rule VM: per-(rule, device) state machine idle → pending → firing of SPEC §4.3 over the
// rules section (assembly/rules/format.ts). Seam with the feature kernel: docs/internals.md;
// semantics decisions: docs/internals.md "Rule semantics decisions" and docs/rule-vm.md.
import {
  RH_RULE_COUNT, RH_STATE_BYTES, RH_MAX_OUT, RH_STACK_OFF, RH_CACHE_OFF, RH_STAMP_OFF, RH_AGE_RULES, RH_ATTR_SLOTS, RH_ATTR_COUNT, RH_ATTR_LIST,
  RULES_HEADER_BYTES, RULE_BYTES, RR_WHEN, RR_CLEAR, RR_FOR, RR_COOLDOWN, RR_FLAGS, RR_PREV,
  RR_MATCH, RR_MATCH_COUNT, RR_READS, RR_READS_COUNT, RULE_USES_AGE, RULE_HAS_CLEAR, RULE_FUSED_WHEN, RULE_SIMPLE,
  MC_ATTR, MC_COUNT, MC_HEADER_BYTES, MV_KIND, MV_VALUE, MV_BYTES,
  RD_KIND, RD_ID, READ_BYTES, READ_FEATURE,
  RR_WORD, RR_SINCE, RR_LAST_FIRE, RSW_STATE_MASK, RSW_FIRED, VM_SCRATCH, VM_SCRATCH_BYTES, VS_GEN,
} from './format';
import {
  HEADER_BASE, O_KIND, O_LEN, OK_TRANSITION, OT_RULE, OT_SLOT, OT_STATE, OT_EPOCH,
  OT_TS, OT_NVALUES, OT_VALUES, STATE_FIRED, STATE_CLEARED, RS_NOT_MATCHING, RS_IDLE, RS_PENDING, RS_FIRING,
} from '../layout';
import { evalExpr, fusedWhen, truthy, cachedFeature, setAttrSlot } from './eval';
import { attrOf, attrIsOf, transitionReserve } from './host';

export function rulesStateBytes(rules: usize): i32 {
  return rules == 0 ? 0 : <i32>load<u32>(rules + RH_STATE_BYTES);
}

export function rulesMaxOutBytes(rules: usize): i32 {
  return rules == 0 ? 0 : <i32>load<u32>(rules + RH_MAX_OUT);
}

/** Rules with `usesAge`: a tick has nothing to do for any device when there are none. */
export function rulesAgeCount(rules: usize): i32 {
  return rules == 0 ? 0 : <i32>load<u32>(rules + RH_AGE_RULES);
}

export function matches(rules: usize, row: usize, dev: usize): bool {
  const n = load<u32>(row + RR_MATCH_COUNT);
  let clause = rules + <usize>load<u32>(row + RR_MATCH);
  for (let c: u32 = 0; c < n; c++) {
    const attr = load<u32>(clause + MC_ATTR);
    const nv = load<u32>(clause + MC_COUNT);
    let any = false;
    for (let v: u32 = 0; v < nv; v++) {
      const val = clause + <usize>MC_HEADER_BYTES + <usize>v * <usize>MV_BYTES;
      if (attrIsOf(dev, attr, load<u32>(val + MV_KIND), load<f64>(val + MV_VALUE))) { any = true; break; }
    }
    if (!any) return false;
    clause += <usize>MC_HEADER_BYTES + <usize>nv * <usize>MV_BYTES;
  }
  return true;
}

/**
 * Reserves a transition record of the rule at `row` (STATE_FIRED / STATE_CLEARED) and writes
 * everything but its values, which follow at OT_VALUES in the rule's reads order; 0 when it
 * does not fit. The kernel checks room for a whole evaluation before evaluating; a record
 * that still does not fit is dropped rather than written over memory that is not the outbox.
 */
export function headTransition(row: usize, rule: u32, what: u32, slot: u32, epoch: u32, ts: f64): usize {
  const nReads = load<u32>(row + RR_READS_COUNT);
  const bytes = OT_VALUES + (nReads << 3);
  const rec = transitionReserve(<i32>bytes);
  if (rec == 0) return 0;
  store<u16>(rec + O_KIND, <u16>OK_TRANSITION);
  store<u16>(rec + O_KIND + 2, 0);
  store<u32>(rec + O_LEN, bytes);
  store<u32>(rec + OT_RULE, rule);
  store<u32>(rec + OT_SLOT, slot);
  store<u32>(rec + OT_STATE, what);
  store<u32>(rec + OT_EPOCH, epoch);
  store<f64>(rec + OT_TS, ts);
  store<u32>(rec + OT_NVALUES, nReads);
  store<u32>(rec + OT_NVALUES + 4, 0);
  return rec;
}

function emit(rules: usize, row: usize, rule: i32, epoch: u32, slot: u32, dev: usize, cells: usize, stamps: usize, gen: u32, what: u32, ts: f64, nowMs: f64): void {
  const rec = headTransition(row, <u32>rule, what, slot, epoch, ts);
  if (rec == 0) return;
  const nReads = load<u32>(row + RR_READS_COUNT);
  const reads = rules + <usize>load<u32>(row + RR_READS);
  for (let i: u32 = 0; i < nReads; i++) {
    const rd = reads + <usize>i * READ_BYTES;
    const id = load<u32>(rd + RD_ID);
    const v = load<u32>(rd + RD_KIND) == READ_FEATURE ? cachedFeature(dev, cells, stamps, gen, id, nowMs) : attrOf(dev, id);
    store<f64>(rec + OT_VALUES + (<usize>i << 3), v);
  }
}

/** Starts a new evaluation: cached feature values of the previous one become stale. */
function nextGeneration(scratch: usize): u32 {
  let gen = load<u32>(scratch + VS_GEN) + 1;
  if (gen == 0) {
    // Wrapped: stamps written 2^32 evaluations ago (by any program) would look fresh.
    memory.fill(scratch, 0, VM_SCRATCH_BYTES);
    gen = 1;
  }
  store<u32>(scratch + VS_GEN, gen);
  return gen;
}

/**
 * Evaluates every rule of the program for one device, in program order, after an event
 * (`ts` the event's time, `tau` the device clock after it) or on a timer tick (`onTick`:
 * only `usesAge` rules, at rule time max(τ, now)). Writes one transition record per
 * state change into the outbox; the caller has checked `rulesMaxOutBytes` of room.
 */
export function rulesEvaluate(rules: usize, epoch: u32, slot: u32, dev: usize, state: usize, ts: f64, tau: f64, nowMs: f64, onTick: bool): void {
  if (rules == 0) return;
  const n = <i32>load<u32>(rules + RH_RULE_COUNT);
  if (n == 0 || (onTick && load<u32>(rules + RH_AGE_RULES) == 0)) return;
  let t = tau;
  if (onTick) {
    t = tau == tau && tau > nowMs ? tau : nowMs;
    ts = t;
  }
  const scratch = <usize>HEADER_BASE + VM_SCRATCH;
  const stack = scratch + <usize>load<u32>(rules + RH_STACK_OFF);
  const cells = scratch + <usize>load<u32>(rules + RH_CACHE_OFF);
  const stamps = scratch + <usize>load<u32>(rules + RH_STAMP_OFF);
  const gen = nextGeneration(scratch);
  const attrs = state + <usize>load<u32>(rules + RH_ATTR_SLOTS);
  for (let i = 0; i < n; i++) {
    const row = rules + RULES_HEADER_BYTES + <usize>i * RULE_BYTES;
    const flags = load<u32>(row + RR_FLAGS);
    let known = false, when = false;
    if (onTick) {
      if ((flags & RULE_USES_AGE) == 0) continue;
    } else if ((flags & RULE_SIMPLE) != 0) {
      // fast path: a fused `when` read from the row; only a possible transition goes on
      when = fusedWhen(row, flags, dev, attrs, cells, stamps, gen, nowMs);
      const cur = load<u32>(state + <usize>load<u32>(row + RR_WORD)) & RSW_STATE_MASK;
      if (when ? cur == RS_FIRING : cur == RS_IDLE) continue;
      known = true;
    }
    // one call site: the state machine is inlined once
    step(rules, row, i, flags, epoch, slot, dev, state, attrs, stack, cells, stamps, gen, t, ts, nowMs, known, when);
  }
}

/**
 * One rule of one evaluation: the state machine of SPEC §4.3 (docs/rule-vm.md). `known`:
 * the caller has already evaluated `when` (a RULE_SIMPLE rule) and passes it as `when0`.
 */
// @ts-ignore: decorator
@inline
function step(
  rules: usize, row: usize, i: i32, flags: u32, epoch: u32, slot: u32, dev: usize, state: usize, attrs: usize,
  stack: usize, cells: usize, stamps: usize, gen: u32, t: f64, ts: f64, nowMs: f64, known: bool, when0: bool,
): void {
  const rs = state + <usize>load<u32>(row + RR_WORD);
  const word = load<u32>(rs);
  const cur = word & RSW_STATE_MASK;
  if (load<u32>(row + RR_MATCH_COUNT) != 0 && !matches(rules, row, dev)) {
    // Leaving the selector is silent; the cooldown memory stays.
    if (cur != RS_IDLE) store<u32>(rs, word & ~RSW_STATE_MASK);
    return;
  }
  let when = when0;
  if (!known) {
    when = (flags & RULE_FUSED_WHEN) != 0
      ? fusedWhen(row, flags, dev, attrs, cells, stamps, gen, nowMs)
      : truthy(evalExpr(rules + <usize>load<u32>(row + RR_WHEN), dev, attrs, stack, cells, stamps, gen, nowMs));
  }
  if (cur == RS_FIRING) {
    const clear = (flags & RULE_HAS_CLEAR) != 0
      ? truthy(evalExpr(rules + <usize>load<u32>(row + RR_CLEAR), dev, attrs, stack, cells, stamps, gen, nowMs))
      : !when;
    if (clear) {
      store<u32>(rs, (word & ~RSW_STATE_MASK) | RS_IDLE);
      emit(rules, row, i, epoch, slot, dev, cells, stamps, gen, STATE_CLEARED, ts, nowMs);
    }
    return;
  }
  if (!when) {
    if (cur == RS_PENDING) store<u32>(rs, (word & ~RSW_STATE_MASK) | RS_IDLE);
    return;
  }
  // `for` and `cooldown` of 0 are no condition at all (rule times of ticks and events may interleave)
  let due = true;
  const sinceOff = load<u32>(row + RR_SINCE);
  if (sinceOff != 0) {
    const at = state + <usize>sinceOff;
    if (cur == RS_IDLE) store<f64>(at, t);
    due = t >= load<f64>(at) + load<f64>(row + RR_FOR);
  }
  const lastOff = load<u32>(row + RR_LAST_FIRE);
  if (due && lastOff != 0 && (word & RSW_FIRED) != 0) {
    due = t >= load<f64>(state + <usize>lastOff) + load<f64>(row + RR_COOLDOWN);
  }
  if (due) {
    store<u32>(rs, (word & ~RSW_STATE_MASK) | RSW_FIRED | RS_FIRING);
    if (lastOff != 0) store<f64>(state + <usize>lastOff, t);
    emit(rules, row, i, epoch, slot, dev, cells, stamps, gen, STATE_FIRED, ts, nowMs);
  } else if (cur == RS_IDLE) {
    store<u32>(rs, (word & ~RSW_STATE_MASK) | RS_PENDING);
  }
}

// @ts-ignore: decorator
@inline
function copyTime(newRow: usize, oldRow: usize, field: i32, newState: usize, oldState: usize): void {
  // time offsets are never 0 (the rule words come first); 0 means the rule has no such time
  const to = load<u32>(newRow + field);
  const from = load<u32>(oldRow + field);
  if (to != 0 && from != 0) store<f64>(newState + <usize>to, load<f64>(oldState + <usize>from));
}

/** Per device at a program switch: rules whose key is unchanged keep their state; `newState` is zeroed. */
export function rulesMigrate(oldRules: usize, oldState: usize, newRules: usize, newState: usize): void {
  if (newRules == 0 || oldRules == 0 || oldState == 0) return;
  const n = <i32>load<u32>(newRules + RH_RULE_COUNT);
  const nOld = <i32>load<u32>(oldRules + RH_RULE_COUNT);
  for (let i = 0; i < n; i++) {
    const row = newRules + RULES_HEADER_BYTES + <usize>i * RULE_BYTES;
    const prev = load<i32>(row + RR_PREV);
    if (prev < 0 || prev >= nOld) continue;
    const oldRow = oldRules + RULES_HEADER_BYTES + <usize>prev * RULE_BYTES;
    store<u32>(newState + <usize>load<u32>(row + RR_WORD), load<u32>(oldState + <usize>load<u32>(oldRow + RR_WORD)));
    copyTime(row, oldRow, RR_SINCE, newState, oldState);
    copyTime(row, oldRow, RR_LAST_FIRE, newState, oldState);
  }
}

/**
 * Rewrites the attribute slots of device block `dev` (rule state at `state`) from its
 * attribute table: after its attributes changed, and for every device at a program switch.
 */
export function rulesFillAttrs(rules: usize, dev: usize, state: usize): void {
  if (rules == 0 || load<u32>(rules + RH_RULE_COUNT) == 0) return;
  const n = load<u32>(rules + RH_ATTR_COUNT);
  const slots = state + <usize>load<u32>(rules + RH_ATTR_SLOTS);
  const ids = rules + <usize>load<u32>(rules + RH_ATTR_LIST);
  for (let k: u32 = 0; k < n; k++) {
    setAttrSlot(slots, k, attrOf(dev, load<u32>(ids + (<usize>k << 2))));
  }
}

/** RS_* of one rule for device block `dev`; `state` 0 means the device has no rule state yet. */
export function rulesState(rules: usize, dev: usize, state: usize, rule: i32): i32 {
  if (rules == 0 || rule < 0 || rule >= <i32>load<u32>(rules + RH_RULE_COUNT)) return RS_NOT_MATCHING;
  const row = rules + RULES_HEADER_BYTES + <usize>rule * RULE_BYTES;
  if (!matches(rules, row, dev)) return RS_NOT_MATCHING;
  if (state == 0) return RS_IDLE;
  const cur = load<u32>(state + <usize>load<u32>(row + RR_WORD)) & RSW_STATE_MASK;
  return cur == RS_FIRING ? RS_FIRING : cur == RS_PENDING ? RS_PENDING : RS_IDLE;
}
