// Program binary: header (P_* in assembly/layout.ts), feature plan, rules, meta JSON.
// Written into the inactive program slot of every shard, then switched in by the worker.
import * as L from '../../assembly/layout.js';
import { DamperError } from '../errors.js';
import { encodePlan } from './encode-plan.js';
import { encodeRules } from './encode-rules.js';
import type { ProgramSpec } from './program-spec.js';

const ERR_PROGRAM = 'DAMPER_ERR_PROGRAM';
const align8 = (n: number): number => (n + 7) & ~7;

/** Encodes `spec` as program `epoch`; `prev` is the spec the shards run when it is switched in (null: none). */
export function encodeProgram(spec: ProgramSpec, epoch: number, prev: ProgramSpec | null): Uint8Array {
  const plan = encodePlan(spec, prev);
  const rules = encodeRules(spec, prev);
  const meta = new TextEncoder().encode(JSON.stringify({ metrics: spec.metrics }));
  const planOff = L.PROGRAM_HEADER_BYTES;
  const rulesOff = align8(planOff + plan.length);
  const metaOff = align8(rulesOff + rules.length);
  const out = new Uint8Array(align8(metaOff + meta.length));
  const v = new DataView(out.buffer);
  const u32 = (at: number, x: number): void => v.setUint32(at, x >>> 0, true);
  u32(L.P_MAGIC, L.PROGRAM_MAGIC);
  u32(L.P_EPOCH, epoch);
  u32(L.P_VERSION, spec.version);
  u32(L.P_PLAN_OFF, planOff);
  u32(L.P_PLAN_LEN, plan.length);
  u32(L.P_RULES_OFF, rulesOff);
  u32(L.P_RULES_LEN, rules.length);
  u32(L.P_META_OFF, metaOff);
  u32(L.P_META_LEN, meta.length);
  out.set(plan, planOff);
  out.set(rules, rulesOff);
  out.set(meta, metaOff);
  return out;
}

/** The program slot not in use (0 before the first program). */
export function inactiveProgramSlot(memory: WebAssembly.Memory): number {
  const active = new DataView(memory.buffer, L.HEADER_BASE, L.PAGE).getInt32(L.H_ACTIVE_PROG, true);
  return active === 0 ? 1 : 0;
}

/** Bytes a program slot of this shard memory holds. */
export function programSlotBytes(memory: WebAssembly.Memory): number {
  return new DataView(memory.buffer, L.HEADER_BASE, L.PAGE).getInt32(L.H_PROG_SIZE, true);
}

/** Copies a program into slot 0/1 of a shard memory; never into the active slot. */
export function writeProgram(memory: WebAssembly.Memory, slot: number, bytes: Uint8Array): void {
  const h = new DataView(memory.buffer, L.HEADER_BASE, L.PAGE);
  if (slot !== 0 && slot !== 1) throw new DamperError(ERR_PROGRAM, `program slot ${slot} is not 0 or 1`);
  if (h.getInt32(L.H_ACTIVE_PROG, true) === slot) throw new DamperError(ERR_PROGRAM, `program slot ${slot} is active`);
  const size = h.getInt32(L.H_PROG_SIZE, true);
  if (bytes.length > size) throw new DamperError(ERR_PROGRAM, `program of ${bytes.length} bytes exceeds the ${size}-byte slot`);
  const base = h.getInt32(slot === 0 ? L.H_PROG_BASE0 : L.H_PROG_BASE1, true);
  new Uint8Array(memory.buffer, base, bytes.length).set(bytes);
}

/** Reads the meta section of the program in a slot (the worker's metric-name table). */
export function readProgramMeta(memory: WebAssembly.Memory, slot: number): { metrics: string[]; epoch: number; version: number } {
  const h = new DataView(memory.buffer, L.HEADER_BASE, L.PAGE);
  const base = h.getInt32(slot === 0 ? L.H_PROG_BASE0 : L.H_PROG_BASE1, true);
  const p = new DataView(memory.buffer, base, L.PROGRAM_HEADER_BYTES);
  if (p.getUint32(L.P_MAGIC, true) !== L.PROGRAM_MAGIC) throw new DamperError(ERR_PROGRAM, `no program in slot ${slot}`);
  const off = p.getUint32(L.P_META_OFF, true);
  const len = p.getUint32(L.P_META_LEN, true);
  // copy out of shared memory: TextDecoder refuses SharedArrayBuffer views
  const text = new TextDecoder().decode(new Uint8Array(memory.buffer, base + off, len).slice());
  const meta = JSON.parse(text) as { metrics: string[] };
  return { metrics: meta.metrics, epoch: p.getUint32(L.P_EPOCH, true), version: p.getUint32(L.P_VERSION, true) };
}
