// Producer side of a shard ring (main thread only). See docs/internals.md "Ring".
// The producer never fills the ring completely (write == read means empty); a record that
// does not fit before the end is preceded by RK_PAD (when a header fits) and goes to 0.
// When fewer than RING_HEADER_BYTES remain before the end, the consumer wraps by itself.
import {
  H_RING_BASE, H_RING_READ, H_RING_SIZE, H_RING_WRITE, HEADER_BASE, R_CONN, R_FLAGS, R_KIND, R_LEN,
  R_RECEIVED, R_SLOT, RING_HEADER_BYTES, RK_PAD,
} from '../../assembly/layout.js';

export function recordBytes(payloadLen: number): number {
  return RING_HEADER_BYTES + ((payloadLen + 7) & ~7);
}

export class RingWriter {
  readonly size: number;
  private readonly base: number;
  private readonly ctl: Int32Array;
  private readonly u8: Uint8Array;
  private readonly dv: DataView;

  constructor(buffer: SharedArrayBuffer | ArrayBuffer) {
    const hdr = new DataView(buffer, HEADER_BASE, 1024);
    this.base = hdr.getInt32(H_RING_BASE, true);
    this.size = hdr.getInt32(H_RING_SIZE, true);
    this.ctl = new Int32Array(buffer, HEADER_BASE, 64);
    this.u8 = new Uint8Array(buffer, this.base, this.size);
    this.dv = new DataView(buffer, this.base, this.size);
  }

  /** Bytes queued and not yet consumed. */
  used(): number {
    const w = Atomics.load(this.ctl, H_RING_WRITE >> 2);
    const r = Atomics.load(this.ctl, H_RING_READ >> 2);
    return w >= r ? w - r : this.size - r + w;
  }

  isEmpty(): boolean {
    return Atomics.load(this.ctl, H_RING_WRITE >> 2) === Atomics.load(this.ctl, H_RING_READ >> 2);
  }

  /** Whether a record with `payloadLen` bytes fits now (leaving `reserve` bytes free). */
  fits(payloadLen: number, reserve = 0): boolean {
    return this.place(recordBytes(payloadLen) + reserve) >= 0;
  }

  /** Writes one record; false when it does not fit (nothing written). */
  write(kind: number, flags: number, conn: number, slot: number, received: number, payload: Uint8Array | null, reserve = 0): boolean {
    const len = payload === null ? 0 : payload.byteLength;
    const rec = recordBytes(len);
    const at = this.place(rec + reserve);
    if (at < 0) return false;
    const w = Atomics.load(this.ctl, H_RING_WRITE >> 2);
    if (at === 0 && w !== 0 && this.size - w >= RING_HEADER_BYTES) {
      this.dv.setUint32(w + R_LEN, 0, true);
      this.dv.setUint8(w + R_KIND, RK_PAD);
    }
    const dv = this.dv;
    dv.setUint32(at + R_LEN, len, true);
    dv.setUint8(at + R_KIND, kind);
    dv.setUint8(at + R_FLAGS, flags);
    dv.setUint16(at + 6, 0, true);
    dv.setUint32(at + R_CONN, conn >>> 0, true);
    dv.setUint32(at + R_SLOT, slot >>> 0, true);
    dv.setFloat64(at + R_RECEIVED, received, true);
    if (payload !== null) this.u8.set(payload, at + RING_HEADER_BYTES);
    let next = at + rec;
    if (next === this.size) next = 0;
    Atomics.store(this.ctl, H_RING_WRITE >> 2, next);
    return true;
  }

  /** Offset where `need` bytes go, or -1 when they do not fit. */
  private place(need: number): number {
    const w = Atomics.load(this.ctl, H_RING_WRITE >> 2);
    const r = Atomics.load(this.ctl, H_RING_READ >> 2);
    if (w >= r) {
      const tail = this.size - w;
      // Contiguous at w; ending exactly at the end wraps write to 0, which must not equal read.
      if (need < tail || (need === tail && r !== 0)) return w;
      if (need < r) return 0;
      return -1;
    }
    return w + need < r ? w : -1;
  }
}
