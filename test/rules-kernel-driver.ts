// Drives the real WASM kernel the way a shard worker does: events through the batch region,
// attributes through the scratch region, programs through the two program slots, and
// transition records read back from the outbox (draining it whenever applyBatch or tick
// stops early because the outbox could not hold one more evaluation).
import * as L from '../assembly/layout.js';
import { createShardMemory, type ShardLayout } from '../src/kernel/memory.js';
import { instantiateKernel, type KernelExports } from '../src/kernel/kernel.js';
import { encodeProgram, writeProgram } from '../src/kernel/program.js';
import type { ProgramSpec } from '../src/kernel/program-spec.js';
import type { AttrValue, Transition } from '../src/reference/rules.js';

export interface BatchEvent { slot: number; metric: number; ts: number; value: number }

export class KernelDriver {
  readonly memory: WebAssembly.Memory;
  readonly layout: ShardLayout;
  readonly k: KernelExports;
  private spec: ProgramSpec | null = null;
  private active = -1;
  private epoch = 0;
  private readonly versions = new Map<number, number>();
  /** Times applyBatch or tick stopped early on a full outbox. */
  earlyStops = 0;

  /** `rulesJit`: the kernel option (default: compiled rules, as the engine runs). */
  constructor(spec: ProgramSpec, opts: { outboxBytes?: number; batchEvents?: number; rulesJit?: boolean } = {}) {
    const shard = createShardMemory({
      ringBytes: 4096, batchEvents: opts.batchEvents ?? 256, scratchBytes: 4096,
      outboxBytes: opts.outboxBytes ?? 4096, programBytes: 64 * 1024, initialArenaPages: 4, maximumPages: 4096,
    });
    this.memory = shard.memory;
    this.layout = shard.layout;
    this.k = instantiateKernel(this.memory, undefined, { rulesJit: opts.rulesJit });
    this.install(spec);
  }

  private view(): DataView { return new DataView(this.memory.buffer); }

  get program(): ProgramSpec { return this.spec!; }

  /** Writes the program beside the running one and switches to it, like a PROGRAM ring record. */
  install(spec: ProgramSpec): void {
    const slot = this.active === 0 ? 1 : 0;
    this.epoch++;
    writeProgram(this.memory, slot, encodeProgram(spec, this.epoch, this.spec));
    this.k.switchProgram(slot);
    this.active = slot;
    this.versions.set(this.epoch, spec.version);
    this.spec = spec;
  }

  setAttrs(slot: number, attrs: ReadonlyMap<number, AttrValue>): void {
    const dv = this.view();
    let p = this.layout.scratchBase;
    for (const [id, a] of attrs) {
      dv.setUint32(p + L.AE_ID, id, true);
      dv.setUint32(p + L.AE_KIND, a.kind === 'number' ? L.ATTR_NUMBER : L.ATTR_STRING, true);
      dv.setFloat64(p + L.AE_VALUE, a.value, true);
      p += L.ATTR_ENTRY_BYTES;
    }
    this.k.setAttrs(slot, this.layout.scratchBase, attrs.size);
  }

  /** Applies the events as one batch; returns the transitions in outbox order. */
  apply(events: BatchEvent[], nowMs: number): Transition[] {
    const dv = this.view();
    events.forEach((e, i) => {
      const p = this.layout.batchBase + i * L.BATCH_EVENT_BYTES;
      dv.setUint32(p + L.BE_SLOT, e.slot, true);
      dv.setUint32(p + L.BE_METRIC, e.metric, true);
      dv.setFloat64(p + L.BE_TS, e.ts, true);
      dv.setFloat64(p + L.BE_VALUE, e.value, true);
    });
    const out: Transition[] = [];
    let i = 0;
    while (i < events.length) {
      const next = this.k.applyBatch(i, events.length, nowMs);
      const wrote = this.drain(out);
      if (next < events.length) {
        if (next === i && !wrote) throw new Error('applyBatch made no progress');
        this.earlyStops++;
      }
      i = next;
    }
    return out;
  }

  tick(nowMs: number): Transition[] {
    const out: Transition[] = [];
    let from = 0;
    for (;;) {
      const next = this.k.tick(from, nowMs);
      if (!this.drain(out)) break;
      this.earlyStops++;
      from = next;
    }
    return out;
  }

  /** Moves the outbox's transition records into `out`; false when it was empty. */
  private drain(out: Transition[]): boolean {
    const dv = this.view();
    const len = dv.getInt32(L.HEADER_BASE + L.H_OUT_LEN, true);
    const base = this.layout.outBase;
    for (let p = base; p < base + len;) {
      const recLen = dv.getUint32(p + L.O_LEN, true);
      if (dv.getUint16(p + L.O_KIND, true) === L.OK_TRANSITION) {
        const n = dv.getUint32(p + L.OT_NVALUES, true);
        const values: number[] = [];
        for (let v = 0; v < n; v++) values.push(dv.getFloat64(p + L.OT_VALUES + 8 * v, true));
        const epoch = dv.getUint32(p + L.OT_EPOCH, true);
        out.push({
          rule: dv.getUint32(p + L.OT_RULE, true),
          slot: dv.getUint32(p + L.OT_SLOT, true),
          state: dv.getUint32(p + L.OT_STATE, true) as Transition['state'],
          ts: dv.getFloat64(p + L.OT_TS, true),
          values,
          version: this.versions.get(epoch) ?? -epoch,
        });
      }
      if (recLen < 8) throw new Error(`bad outbox record length ${recLen}`);
      p += recLen;
    }
    dv.setInt32(L.HEADER_BASE + L.H_OUT_LEN, 0, true);
    return len > 0;
  }

  transitionsCounter(): number {
    return this.view().getFloat64(L.HEADER_BASE + L.H_TRANSITIONS, true);
  }
}

/** SPEC §4.2 tolerances, loosest class (1e-6 relative plus absolute); NaN equals NaN, infinities exactly. */
export function closeTo(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b)) + 1e-9;
}

/** A readable diff of two transition lists, or null when they agree record for record. */
export function diffTransitions(kernel: Transition[], reference: Transition[]): string | null {
  const n = Math.max(kernel.length, reference.length);
  for (let i = 0; i < n; i++) {
    const a = kernel[i];
    const b = reference[i];
    const same = a && b && a.rule === b.rule && a.slot === b.slot && a.state === b.state && a.ts === b.ts
      && a.version === b.version && a.values.length === b.values.length && a.values.every((v, j) => closeTo(v, b.values[j]));
    if (!same) return `record ${i}: kernel ${JSON.stringify(a)} reference ${JSON.stringify(b)}`;
  }
  return null;
}
