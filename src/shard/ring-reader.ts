// Consumer side of a shard ring (the one task draining the shard). Mirrors ring-writer.ts.
import {
  H_RING_BASE, H_RING_READ, H_RING_SIZE, H_RING_WRITE, HEADER_BASE, R_KIND, R_LEN, RING_HEADER_BYTES, RK_PAD,
} from '../../assembly/layout.js';
import { recordBytes } from './ring-writer.js';

export class RingReader {
  /** Absolute offset (in shard memory) of the current record's header. */
  at = 0;
  kind = 0;
  len = 0;
  readonly base: number;
  readonly size: number;
  private readonly ctl: Int32Array;
  private readonly dv: DataView;
  private read: number;

  constructor(buffer: SharedArrayBuffer) {
    const hdr = new DataView(buffer, HEADER_BASE, 1024);
    this.base = hdr.getInt32(H_RING_BASE, true);
    this.size = hdr.getInt32(H_RING_SIZE, true);
    this.ctl = new Int32Array(buffer, HEADER_BASE, 64);
    this.dv = new DataView(buffer, this.base, this.size);
    this.read = Atomics.load(this.ctl, H_RING_READ >> 2);
  }

  /** Positions on the next record (skipping padding); false when the ring is empty. */
  next(): boolean {
    this.read = Atomics.load(this.ctl, H_RING_READ >> 2);
    for (;;) {
      const w = Atomics.load(this.ctl, H_RING_WRITE >> 2);
      if (this.read === w) return false;
      if (this.size - this.read < RING_HEADER_BYTES || this.dv.getUint8(this.read + R_KIND) === RK_PAD) {
        this.read = 0;
        Atomics.store(this.ctl, H_RING_READ >> 2, 0);
        continue;
      }
      this.at = this.base + this.read;
      this.kind = this.dv.getUint8(this.read + R_KIND);
      this.len = this.dv.getUint32(this.read + R_LEN, true);
      return true;
    }
  }

  /** Releases the current record to the producer. */
  consume(): void {
    let next = this.read + recordBytes(this.len);
    if (next >= this.size) next = 0;
    this.read = next;
    Atomics.store(this.ctl, H_RING_READ >> 2, next);
  }
}
