// Program switch: re-lay every device block out for the new program and carry over the
// state of groups, accumulator blocks and features whose identity exists in the old
// program (the plan's PG_PREV_*/PF_PREV_* fields, computed by encodePlan). Rule state
// migrates through the rule VM.
import {
  HEADER_BASE, H_PROG_BASE0, H_PROG_BASE1, H_ACTIVE_PROG, H_ACTIVE_EPOCH, H_PROGRAM_SWITCHES, P_MAGIC, P_EPOCH, P_PLAN_OFF, P_RULES_OFF,
  PROGRAM_MAGIC, PL_N_GROUPS, PL_N_FEATURES, PL_STATE_END, PL_LAYOUT_HASH, PL_PREV_HASH, PL_RULE_OFF, PL_RULE_BYTES,
  PG_NB, PG_MASK, PG_REC_BYTES, PG_STATE_OFF, PG_PREV_OFF, PG_PREV_MASK, PG_PREV_REC_BYTES, PG_BLOCK_OFF, PG_PREV_BLOCK_OFF,
  PF_FN, PF_GROUP, PF_STATE_OFF, PF_PREV_OFF, NO_PREV, BLK_RFIT, GROUP_HEADER_BYTES, DEVICE_HEADER_BYTES, D_FLAGS, DF_EXISTS,
  LAST_STATE_BYTES, EWMA_STATE_BYTES, AGE_STATE_BYTES,
} from '../layout';
import { rulesStateBytes, rulesMaxOutBytes, rulesMigrate, rulesFillAttrs } from '../rules/index';
import { arenaFree } from './arena';
import { BLOCK_BYTES, resetBlock } from './blocks';
import { deviceFor, pageBytesFor } from './devices';
import { FN_LAST, FN_EWMA, FN_AGE } from './fns';
import { planGroup, planFeature } from './plan';
import {
  K_DIR, K_DIR_CAP, K_PER_PAGE, K_STRIDE, K_SLOT_LIMIT, K_RULE_OFF, K_RULE_BYTES, K_LAYOUT_HASH, K_PLAN, K_RULES,
  K_MAX_OUT, K_PAGE_BYTES, K_PAGE_MAGIC, K_CACHES_LIVE, K_HOT_LINES,
} from './private';

@inline function align8(n: u32): u32 { return (n + 7) & ~7; }

/** Sets the device-table geometry for a stride (the directory must be empty). */
export function setGeometry(stride: u32): void {
  const pageBytes = pageBytesFor(stride);
  store<u32>(K_STRIDE, stride);
  store<u32>(K_PAGE_BYTES, pageBytes);
  const perPage = pageBytes / stride;
  store<u32>(K_PER_PAGE, perPage);
  store<u64>(K_PAGE_MAGIC, ((<u64>1 << 40) + <u64>perPage - 1) / <u64>perPage);
  store<u32>(K_DIR, 0);
  store<u32>(K_DIR_CAP, 0);
}

/**
 * Cache lines from the start of a device block to its first bucket ring: the header, window
 * caches, scalar features and (when reserved there) the rule state, which the apply loop
 * touches ahead for every event (touch.ts); at most 8.
 */
function hotLines(plan: usize, stateEnd: u32): u32 {
  let end = stateEnd;
  const ng = load<u32>(plan + PL_N_GROUPS);
  for (let i: u32 = 0; i < ng; i++) end = min(end, load<u32>(planGroup(plan, i) + PG_STATE_OFF));
  return min<u32>(8, (end + 63) >> 6);
}

function scalarBytes(fn: u32): u32 {
  if (fn == FN_LAST) return LAST_STATE_BYTES;
  if (fn == FN_EWMA) return EWMA_STATE_BYTES;
  if (fn == FN_AGE) return AGE_STATE_BYTES;
  return 0;
}

function migrateFeatures(plan: usize, od: usize, nd: usize): void {
  const ng = load<u32>(plan + PL_N_GROUPS);
  for (let i: u32 = 0; i < ng; i++) {
    const g = planGroup(plan, i);
    const prevOff = load<u32>(g + PG_PREV_OFF);
    if (prevOff == NO_PREV) continue;
    const mask = load<u32>(g + PG_MASK);
    const prevMask = load<u32>(g + PG_PREV_MASK);
    const nb = load<u32>(g + PG_NB);
    const rec = <usize>load<u32>(g + PG_REC_BYTES);
    const prevRec = <usize>load<u32>(g + PG_PREV_REC_BYTES);
    const ob = od + <usize>prevOff;
    const nbase = nd + <usize>load<u32>(g + PG_STATE_OFF);
    if ((mask & prevMask & (1 << BLK_RFIT)) != 0) store<i64>(nbase, load<i64>(ob));
    for (let k: u32 = 0; k < nb; k++) {
      const o = ob + GROUP_HEADER_BYTES + <usize>k * prevRec;
      const n = nbase + GROUP_HEADER_BYTES + <usize>k * rec;
      store<i64>(n, load<i64>(o));
      for (let b = 0; b < 8; b++) {
        if ((mask & (1 << b)) == 0) continue;
        const np = n + <usize>load<u8>(g + PG_BLOCK_OFF + b);
        if ((prevMask & (1 << b)) != 0) {
          memory.copy(np, o + <usize>load<u8>(g + PG_PREV_BLOCK_OFF + b), <usize>unchecked(BLOCK_BYTES[b]));
        } else {
          resetBlock(b, np);
        }
      }
    }
  }
  const nf = load<u32>(plan + PL_N_FEATURES);
  for (let i: u32 = 0; i < nf; i++) {
    const f = planFeature(plan, i);
    if (load<u32>(f + PF_GROUP) != NO_PREV) continue;
    const prev = load<u32>(f + PF_PREV_OFF);
    if (prev == NO_PREV) continue;
    memory.copy(nd + <usize>load<u32>(f + PF_STATE_OFF), od + <usize>prev, <usize>scalarBytes(load<u32>(f + PF_FN)));
  }
}

export function switchTo(progSlot: i32): void {
  if (progSlot != 0 && progSlot != 1) return;
  const base = <usize>load<u32>(HEADER_BASE + (progSlot == 0 ? H_PROG_BASE0 : H_PROG_BASE1));
  if (load<u32>(base + P_MAGIC) != PROGRAM_MAGIC) return;
  // switching again to the running program must not reset anything
  if (load<i32>(HEADER_BASE + H_ACTIVE_PROG) == progSlot && load<u32>(HEADER_BASE + H_ACTIVE_EPOCH) == load<u32>(base + P_EPOCH)) return;
  const plan = base + <usize>load<u32>(base + P_PLAN_OFF);
  const rules = base + <usize>load<u32>(base + P_RULES_OFF);
  const ruleBytes = align8(<u32>max<i32>(0, rulesStateBytes(rules)));
  // the plan reserves the rule state next to the device header (PL_RULE_OFF); a rules section
  // that needs more than the reservation gets room after the feature state instead
  const stateEnd = align8(load<u32>(plan + PL_STATE_END));
  const reservedOff = load<u32>(plan + PL_RULE_OFF);
  const inPlace = reservedOff != 0 && ruleBytes <= load<u32>(plan + PL_RULE_BYTES);
  const ruleOff = inPlace ? reservedOff : stateEnd;
  const oldPlan = <usize>load<u32>(K_PLAN);
  const oldRules = <usize>load<u32>(K_RULES);
  const oldRuleOff = <usize>load<u32>(K_RULE_OFF);
  const keepFeatures = oldPlan != 0 && load<u32>(plan + PL_PREV_HASH) == load<u32>(K_LAYOUT_HASH);
  // the old rules section is still readable only when the new program went to the other slot
  const keepRules = oldRules != 0 && load<i32>(HEADER_BASE + H_ACTIVE_PROG) != progSlot;

  const oldDir = <usize>load<u32>(K_DIR);
  const oldCap = load<u32>(K_DIR_CAP);
  const oldPerPage = load<u32>(K_PER_PAGE);
  const oldStride = <usize>load<u32>(K_STRIDE);
  const oldPageBytes = load<u32>(K_PAGE_BYTES);
  const limit = load<u32>(K_SLOT_LIMIT);
  // blocks start on cache lines (pages are 64-aligned, the stride a multiple of 64), so the
  // hot prefix touched ahead (touch.ts) is as few lines as it can be
  setGeometry(((inPlace ? stateEnd : stateEnd + ruleBytes) + 63) & ~63);

  for (let page: u32 = 0; page < oldCap; page++) {
    const p = <usize>load<u32>(oldDir + (<usize>page << 2));
    if (p == 0) continue;
    for (let j: u32 = 0; j < oldPerPage; j++) {
      const slot = page * oldPerPage + j;
      if (slot >= limit) break;
      const od = p + <usize>j * oldStride;
      if ((load<u32>(od + D_FLAGS) & DF_EXISTS) == 0) continue;
      const nd = deviceFor(slot);
      memory.copy(nd, od, DEVICE_HEADER_BYTES);
      if (keepFeatures) migrateFeatures(plan, od, nd);
      if (keepRules) rulesMigrate(oldRules, od + oldRuleOff, rules, nd + <usize>ruleOff);
      // the attribute table moved with the header; the new program's slots are filled from it
      rulesFillAttrs(rules, nd, nd + <usize>ruleOff);
    }
    arenaFree(p, oldPageBytes);
  }
  arenaFree(oldDir, oldCap << 2);

  store<u32>(K_PLAN, <u32>plan);
  store<u32>(K_RULES, <u32>rules);
  store<u32>(K_MAX_OUT, <u32>max<i32>(0, rulesMaxOutBytes(rules)));
  store<u32>(K_LAYOUT_HASH, load<u32>(plan + PL_LAYOUT_HASH));
  store<u32>(K_RULE_OFF, ruleOff);
  store<u32>(K_RULE_BYTES, ruleBytes);
  store<u32>(K_HOT_LINES, hotLines(plan, stateEnd));
  // the new blocks hold no cache record yet (updateGroup skips them until a fill)
  store<u32>(K_CACHES_LIVE, 0);
  store<i32>(HEADER_BASE + H_ACTIVE_PROG, progSlot);
  store<u32>(HEADER_BASE + H_ACTIVE_EPOCH, load<u32>(base + P_EPOCH));
  // a compiled rule evaluator of the previous program is stale from here (src/kernel/kernel.ts)
  store<u32>(HEADER_BASE + H_PROGRAM_SWITCHES, load<u32>(HEADER_BASE + H_PROGRAM_SWITCHES) + 1);
}
