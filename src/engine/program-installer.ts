// RuleManager's `install`: encode the program, write it into the inactive slot of every
// shard, re-announce attributes that became meaningful, queue RK_PROGRAM, and resolve once
// every shard's kernel reports the new epoch (the switch happens at a batch boundary, so
// no event sees a mix of versions).
import { H_ACTIVE_EPOCH, NO_SLOT, RK_ATTRS, RK_PROGRAM } from '../../assembly/layout.js';
import { DamperError } from '../errors.js';
import { encodeProgram, inactiveProgramSlot, programSlotBytes, writeProgram } from '../kernel/program.js';
import type { ProgramSpec } from '../kernel/program-spec.js';
import type { DrainScheduler } from '../shard/drain-scheduler.js';
import type { ProgramBook } from '../shard/program-book.js';
import type { ShardSet } from '../shard/shard-set.js';

export interface InstallerDeps {
  shards: ShardSet;
  scheduler: DrainScheduler;
  programs: ProgramBook;
  /** RK_ATTRS payload for a device from the registry and the current name tables. */
  attrEntries(id: string): Uint8Array;
  timeoutMs?: number;
}

export class ProgramInstaller {
  private epoch = 0;
  private attrCount = 0;
  private stringCount = 0;

  constructor(private readonly deps: InstallerDeps) {}

  /** Continues from a restored checkpoint: `spec` is active in every shard under `epoch`. */
  restore(epoch: number, spec: ProgramSpec): void {
    this.epoch = epoch;
    this.attrCount = spec.attrs.length;
    this.stringCount = spec.strings.length;
    this.deps.programs.add(epoch, spec);
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  /** The last program `fits` encoded: install reuses it when asked for the same set next. */
  private encoded: { spec: ProgramSpec; prev: ProgramSpec | null; epoch: number; bytes: Uint8Array } | null = null;

  private encode(spec: ProgramSpec, prev: ProgramSpec | null, epoch: number): Uint8Array {
    const e = this.encoded;
    if (e && e.spec === spec && e.prev === prev && e.epoch === epoch) return e.bytes;
    const bytes = encodeProgram(spec, epoch, prev);
    this.encoded = { spec, prev, epoch, bytes };
    return bytes;
  }

  /** Why `spec` cannot be installed after `prev` (its program is larger than a shard's slot), or null. */
  fits = (spec: ProgramSpec, prev: ProgramSpec | null): string | null => this.tooLarge(this.encode(spec, prev, this.epoch + 1).length);

  private tooLarge(bytes: number): string | null {
    const slot = Math.min(...this.deps.shards.memories.map((m) => programSlotBytes(m)));
    return bytes > slot ? `the compiled rules take ${bytes} bytes, more than a shard's program slot (${slot} bytes): use fewer rules or features` : null;
  }

  install = async (spec: ProgramSpec, prev: ProgramSpec | null): Promise<void> => {
    const { shards, scheduler, programs } = this.deps;
    const epoch = this.epoch + 1;
    const bytes = this.encode(spec, prev, epoch);
    this.encoded = null;
    // RuleManager asks `fits` first; this only keeps a set that cannot fit from changing anything
    const tooLarge = this.tooLarge(bytes.length);
    if (tooLarge) throw new DamperError('DAMPER_ERR_RULES_INVALID', tooLarge);
    this.epoch = epoch;
    // Every slot write happens before any switch is queued: a shard never switches to a half-written program.
    const slots = shards.memories.map((m) => inactiveProgramSlot(m));
    shards.memories.forEach((m, s) => writeProgram(m, slots[s], bytes));
    programs.add(epoch, spec);
    if (spec.attrs.length !== this.attrCount || spec.strings.length !== this.stringCount) {
      this.attrCount = spec.attrs.length;
      this.stringCount = spec.strings.length;
      for (const id of shards.devices()) {
        const s = shards.shardOf(id);
        shards.writeControl(s, RK_ATTRS, shards.slotOf(id), Date.now(), this.deps.attrEntries(id));
      }
    }
    const payload = new Uint8Array(8);
    const dv = new DataView(payload.buffer);
    for (let s = 0; s < shards.count; s++) {
      dv.setUint32(0, slots[s], true);
      dv.setUint32(4, epoch, true);
      shards.writeControl(s, RK_PROGRAM, NO_SLOT, Date.now(), payload);
    }
    scheduler.kickAll();
    const deadline = Date.now() + (this.deps.timeoutMs ?? 30_000);
    for (;;) {
      let done = true;
      for (let s = 0; s < shards.count; s++) if (shards.header(s).getInt32(H_ACTIVE_EPOCH, true) !== epoch) done = false;
      if (done) return;
      if (Date.now() > deadline) throw new DamperError('DAMPER_ERR_INSTALL_TIMEOUT', `rules version ${spec.version} not active on every shard after ${this.deps.timeoutMs ?? 30_000} ms`);
      await new Promise((r) => setTimeout(r, 2));
      scheduler.kickAll();
    }
  };
}
