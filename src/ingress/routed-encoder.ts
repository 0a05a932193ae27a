// Encodes RK_ROUTED payloads, msgpack `[[slot, t, m, v], …]`, straight into a reusable
// byte buffer per shard: the main thread re-routes gateway events without building an
// array per event.
const textEncoder = new TextEncoder();

export class RoutedEncoder {
  count = 0;
  private buf = new Uint8Array(4096);
  private dv = new DataView(this.buf.buffer);
  private len = 5; // room for the array32 header

  reset(): void {
    this.count = 0;
    this.len = 5;
  }

  add(slot: number, ts: number, metric: string, value: number): void {
    // fixarray(4) + uint32 + float64 + str8 header + metric (≤ 64 ASCII bytes) + float64
    this.ensure(1 + 5 + 9 + 2 + metric.length * 3 + 9);
    const b = this.buf;
    const dv = this.dv;
    let p = this.len;
    b[p++] = 0x94;
    b[p++] = 0xce;
    dv.setUint32(p, slot, false);
    p += 4;
    b[p++] = 0xcb;
    dv.setFloat64(p, ts, false);
    p += 8;
    b[p++] = 0xd9;
    const n = textEncoder.encodeInto(metric, b.subarray(p + 1)).written;
    b[p] = n;
    p += 1 + n;
    b[p++] = 0xcb;
    dv.setFloat64(p, value, false);
    p += 8;
    this.len = p;
    this.count++;
  }

  /** The encoded payload (a view valid until the next add/reset). */
  bytes(): Uint8Array {
    this.buf[0] = 0xdd;
    this.dv.setUint32(1, this.count, false);
    return this.buf.subarray(0, this.len);
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + extra));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
}
