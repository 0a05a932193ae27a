// applyBatch: the hot path. Per event: device lookup, clock, the metric's groups and
// scalar features, then one rule evaluation. Counters are accumulated locally and
// written once per call.
import {
  HEADER_BASE, H_BATCH_BASE, H_BATCH_CAP, H_OUT_LEN, H_OUT_SIZE, H_EVENTS_APPLIED, H_LATE_EVENTS,
  H_ACTIVE_EPOCH, JIT_SLOT, JIT_UPKEEP_SLOT, BATCH_EVENT_BYTES, BE_SLOT, BE_METRIC, BE_TS, BE_VALUE,
  D_FLAGS, D_TAU, DF_CLOCK, DF_EXISTS, PL_N_METRICS, PL_METRICS_OFF, PL_GROUPS_OFF, PM_BYTES, PG_BYTES, PM_FIRST_GROUP, PM_N_GROUPS, PM_FIRST_SCALAR, PM_N_SCALARS, PG_FLAGS, GF_SLIDES,
} from '../layout';
import { rulesEvaluate } from '../rules/index';
import { blockIn, deviceFor, touchDevice } from './devices';
import { updateGroup } from './groups';
import { updateScalar } from './scalars';
import { planFeature, planScalar } from './plan';
import { touchEvents, touching, TOUCH_CHUNK } from './touch';
import { K_PLAN, K_RULES, K_MAX_OUT, K_RULE_OFF, K_PER_PAGE, K_PAGE_MAGIC, K_STRIDE, K_DIR, K_DIR_CAP } from './private';

// Beyond ±1e16 ms (±300,000 years) bucket ids stop being exact integers.
const TS_LIMIT: f64 = 1e16;

/**
 * Applies batch events [from, to) and evaluates the rules after each; `jit`: the host has put
 * the active program's compiled evaluator into the function table (rules/jit.ts), else the
 * interpreter (rulesEvaluate) runs. Returns the first event not applied (outbox full).
 */
export function applyEvents(from: i32, to: i32, nowMs: f64, jit: bool): i32 {
  const cap = load<i32>(HEADER_BASE + H_BATCH_CAP);
  if (from < 0) from = 0;
  if (to > cap) to = cap;
  const batch = <usize>load<u32>(HEADER_BASE + H_BATCH_BASE);
  const plan = <usize>load<u32>(K_PLAN);
  const rulesAt = <usize>load<u32>(K_RULES);
  // a program without rules (its first u32 is the rule count) skips evaluation entirely
  const rules: usize = rulesAt != 0 && load<u32>(rulesAt) != 0 ? rulesAt : 0;
  const maxOut = <i32>load<u32>(K_MAX_OUT);
  const outSize = load<i32>(HEADER_BASE + H_OUT_SIZE);
  const nMetrics: u32 = plan != 0 ? load<u32>(plan + PL_N_METRICS) : 0;
  const metrics = plan + (plan != 0 ? <usize>load<u32>(plan + PL_METRICS_OFF) : 0);
  const groups = plan + (plan != 0 ? <usize>load<u32>(plan + PL_GROUPS_OFF) : 0);
  const ruleOff = <usize>load<u32>(K_RULE_OFF);
  const epoch = load<u32>(HEADER_BASE + H_ACTIVE_EPOCH);
  const perPage = load<u32>(K_PER_PAGE);
  const magic = load<u64>(K_PAGE_MAGIC);
  const stride = <usize>load<u32>(K_STRIDE);
  let dir = <usize>load<u32>(K_DIR);
  let dirCap = load<u32>(K_DIR_CAP);
  let applied: f64 = 0, late: f64 = 0;
  let i = from;
  // the lines of the next chunk of events are touched while this chunk is applied (touch.ts)
  const touch = touching();
  if (touch && from < to) touchEvents(batch, from, min(to, from + TOUCH_CHUNK), nMetrics, metrics, groups);
  for (; i < to; i++) {
    if (touch && ((i - from) & (TOUCH_CHUNK - 1)) == 0 && i + TOUCH_CHUNK < to) {
      touchEvents(batch, i + TOUCH_CHUNK, min(to, i + 2 * TOUCH_CHUNK), nMetrics, metrics, groups);
    }
    if (rules != 0 && maxOut > 0) {
      const len = load<i32>(HEADER_BASE + H_OUT_LEN);
      if (len > 0 && outSize - len < maxOut) break;
    }
    const e = batch + <usize>i * BATCH_EVENT_BYTES;
    const slot = load<u32>(e + BE_SLOT);
    const metric = load<u32>(e + BE_METRIC);
    const ts = load<f64>(e + BE_TS);
    const v = load<f64>(e + BE_VALUE);
    // bad input is skipped, never trusted: the worker validates, this only keeps memory safe
    if (!(Math.abs(ts) < TS_LIMIT) || !isFinite(v)) continue;
    // device lookup with the table geometry in locals; reloaded only after the table grew
    let d = blockIn(slot, dir, dirCap, perPage, magic, stride);
    if (d == 0) {
      d = deviceFor(slot);
      if (d == 0) continue;
      dir = <usize>load<u32>(K_DIR);
      dirCap = load<u32>(K_DIR_CAP);
    }
    let flags = load<u32>(d + D_FLAGS);
    if ((flags & DF_EXISTS) == 0) {
      touchDevice(slot, d);
      flags |= DF_EXISTS;
    }
    let tau = load<f64>(d + D_TAU);
    if ((flags & DF_CLOCK) == 0) {
      store<u32>(d + D_FLAGS, flags | DF_CLOCK);
      tau = ts;
    } else if (ts > tau) {
      tau = ts;
    }
    store<f64>(d + D_TAU, tau);
    if (metric < nMetrics) {
      const m = metrics + <usize>metric * PM_BYTES;
      const n = load<u32>(m + PM_N_GROUPS);
      let g = groups + <usize>load<u32>(m + PM_FIRST_GROUP) * PG_BYTES;
      // the compiled module applies the event to the metric's sliding groups (records and
      // window caches, as updateGroup with the group's layout as constants); the rest here
      let isLate = jit && call_indirect<i32>(JIT_UPKEEP_SLOT, <u32>d, metric, ts, v, tau) != 0;
      for (let j: u32 = 0; j < n; j++, g += PG_BYTES) {
        if (jit && (load<u32>(g + PG_FLAGS) & GF_SLIDES) != 0) continue;
        if (updateGroup(g, d, ts, v, tau)) isLate = true;
      }
      if (isLate) late += 1;
      const s0 = load<u32>(m + PM_FIRST_SCALAR);
      const s1 = s0 + load<u32>(m + PM_N_SCALARS);
      for (let s = s0; s < s1; s++) updateScalar(planFeature(plan, planScalar(plan, s)), d, ts, v, nowMs);
    }
    applied += 1;
    if (rules != 0) {
      if (jit) call_indirect<void>(JIT_SLOT, <u32>d, <u32>(d + ruleOff), slot, epoch, ts, tau, nowMs);
      else rulesEvaluate(rules, epoch, slot, d, d + ruleOff, ts, tau, nowMs, false);
    }
  }
  store<f64>(HEADER_BASE + H_EVENTS_APPLIED, load<f64>(HEADER_BASE + H_EVENTS_APPLIED) + applied);
  store<f64>(HEADER_BASE + H_LATE_EVENTS, load<f64>(HEADER_BASE + H_LATE_EVENTS) + late);
  return i;
}
