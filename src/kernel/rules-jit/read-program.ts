// The active program of a shard memory as the rule compiler needs it (rules-jit/index.ts):
// its plan and rules sections read back from shard memory, the postfix code of `when` and
// `clear` decoded into expression trees. Any worker thread can do this without a spec.
import * as L from '../../../assembly/layout.js';
import * as F from '../../../assembly/rules/format.js';
import { DamperError } from '../../errors.js';

/** Expression tree decoded from the rules section's postfix code. */
export type Node =
  | { k: 'num'; v: number }
  | { k: 'feature'; f: number }
  | { k: 'attr'; slot: number }
  | { k: 'unary'; op: number; a: Node }
  | { k: 'binary'; op: number; a: Node; b: Node }
  | { k: 'fused'; op: number; f: number; v: number }
  | { k: 'and' | 'or'; a: Node; b: Node }
  | { k: 'bool'; a: Node };

export interface Group {
  index: number; metric: number; nb: number; mask: number; stateOff: number; cache: number; recBytes: number; flags: number;
  bucketMs: number; invBucketMs: number; invNb: number; windowSec: number; blockOff: number[];
}
export interface Feature { fn: number; group: Group | null; stateOff: number }
export interface Rule {
  word: number; since: number; lastFire: number; forMs: number; cooldownMs: number;
  hasClear: boolean; matchCount: number; when: Node; clear: Node | null;
  reads: { kind: number; id: number }[];
}

/** What the compiled code needs of the program; read from shard memory, not from a spec. */
export interface Program { groups: Group[]; features: Feature[]; rules: Rule[]; attrSlots: number }

const ERR_JIT = 'DAMPER_ERR_RULES_JIT';

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
export function readProgram(memory: WebAssembly.Memory): Program | null {
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
      metric: v.getUint32(g + L.PG_METRIC, true),
      nb: v.getUint32(g + L.PG_NB, true),
      mask: v.getUint32(g + L.PG_MASK, true),
      stateOff: v.getUint32(g + L.PG_STATE_OFF, true),
      cache: v.getUint32(g + L.PG_CACHE_OFF, true),
      recBytes: v.getUint32(g + L.PG_REC_BYTES, true),
      flags: v.getUint32(g + L.PG_FLAGS, true),
      bucketMs: v.getFloat64(g + L.PG_BUCKET_MS, true),
      invBucketMs: v.getFloat64(g + L.PG_INV_BUCKET_MS, true),
      invNb: v.getFloat64(g + L.PG_INV_NB, true),
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
  return { groups, features, rules: list, attrSlots: v.getUint32(rules + F.RH_ATTR_SLOTS, true) };
}

function checkFeatures(n: Node, count: number): void {
  if ((n.k === 'feature' || n.k === 'fused') && n.f >= count) throw bad(`feature ${n.f} out of range`);
  if ('a' in n) checkFeatures(n.a, count);
  if ('b' in n) checkFeatures(n.b, count);
}
