// The main thread's side of all shards: their memories, ring producers, device slots and
// the control records (attributes, removal, ticks, program switches) waiting for room.
import { H_EVENTS_APPLIED, H_LATE_EVENTS, HEADER_BASE, NO_SLOT } from '../../assembly/layout.js';
import { DamperError } from '../errors.js';
import { hashDevice } from './names.js';
import { RingWriter } from './ring-writer.js';

interface ControlRecord { kind: number; slot: number; received: number; payload: Uint8Array | null; conn: number }

export class ShardSet {
  readonly count: number;
  readonly rings: RingWriter[];
  /** Bytes data frames leave free so control records rarely have to queue. */
  readonly reserve: number;
  private readonly headers: DataView[];
  private readonly slots = new Map<string, number>();
  private readonly ids: string[][];
  private readonly control: ControlRecord[][];

  constructor(readonly memories: WebAssembly.Memory[]) {
    this.count = memories.length;
    this.rings = memories.map((m) => new RingWriter(m.buffer as unknown as SharedArrayBuffer));
    this.headers = memories.map((m) => new DataView(m.buffer, HEADER_BASE, 1024));
    this.ids = memories.map(() => []);
    this.control = memories.map(() => []);
    this.reserve = Math.min(64 * 1024, this.rings[0].size >> 3);
  }

  shardOf(id: string): number {
    return hashDevice(id) % this.count;
  }

  /** The device's slot in its shard, or NO_SLOT when it has none yet. */
  slotOf(id: string): number {
    return this.slots.get(id) ?? NO_SLOT;
  }

  /** Assigns a slot on first sight; `isNew` tells the caller to push the device's attributes. */
  assign(id: string): { slot: number; isNew: boolean } {
    const known = this.slots.get(id);
    if (known !== undefined) return { slot: known, isNew: false };
    const list = this.ids[this.shardOf(id)];
    const slot = list.length;
    list.push(id);
    this.slots.set(id, slot);
    return { slot, isNew: true };
  }

  /** Device ids by shard and slot (a copy), e.g. for a checkpoint. */
  slotTable(): string[][] {
    return this.ids.map((l) => l.slice());
  }

  /** Takes over a checkpoint's slots (ids[shard][slot]); only before any device was assigned. */
  restoreSlots(ids: readonly (readonly string[])[]): void {
    if (this.slots.size > 0 || ids.length !== this.count) throw new DamperError('DAMPER_ERR_STATE', 'restoreSlots needs an empty set of the same shard count');
    ids.forEach((list, s) => list.forEach((id, slot) => {
      this.ids[s].push(id);
      this.slots.set(id, slot);
    }));
  }

  deviceId(shard: number, slot: number): string | undefined {
    return this.ids[shard][slot];
  }

  /** Every device that has a slot. */
  devices(): IterableIterator<string> {
    return this.slots.keys();
  }

  /** Whether a data frame of `len` bytes can go to the shard now. */
  canTake(shard: number, len: number): boolean {
    return this.control[shard].length === 0 && this.rings[shard].fits(len, this.reserve);
  }

  /** Writes a data frame; the caller checked canTake. */
  writeFrame(shard: number, kind: number, flags: number, conn: number, slot: number, received: number, payload: Uint8Array): boolean {
    if (this.control[shard].length !== 0) return false;
    return this.rings[shard].write(kind, flags, conn, slot, received, payload, this.reserve);
  }

  /** Control records never fail: they wait in order for ring room when needed. */
  writeControl(shard: number, kind: number, slot: number, received: number, payload: Uint8Array | null, conn = 0): void {
    const q = this.control[shard];
    if (q.length === 0 && this.rings[shard].write(kind, 0, conn, slot, received, payload)) return;
    q.push({ kind, slot, received, payload: payload === null ? null : payload.slice(), conn });
  }

  /** Moves queued control records into the ring as far as room allows; true when some wait. */
  flushControl(shard: number): boolean {
    const q = this.control[shard];
    let i = 0;
    while (i < q.length) {
      const c = q[i];
      if (!this.rings[shard].write(c.kind, 0, c.conn, c.slot, c.received, c.payload)) break;
      i++;
    }
    if (i > 0) q.splice(0, i);
    return q.length > 0;
  }

  hasWork(shard: number): boolean {
    return !this.rings[shard].isEmpty() || this.control[shard].length > 0;
  }

  queueBytes(): number[] {
    return this.rings.map((r) => r.used());
  }

  eventsApplied(): number {
    let n = 0;
    for (const h of this.headers) n += h.getFloat64(H_EVENTS_APPLIED, true);
    return n;
  }

  lateEvents(): number {
    let n = 0;
    for (const h of this.headers) n += h.getFloat64(H_LATE_EVENTS, true);
    return n;
  }

  header(shard: number): DataView {
    return this.headers[shard];
  }
}
