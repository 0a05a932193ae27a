// A tiny msgpack writer for the few fixed shapes the simulator sends. Hand-encoding keeps
// every frame byte-identical to what msgpackr would decode, while letting the simulator
// build a pool of frames once and know their exact sizes without a general encoder.

export class MsgpackWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 4096) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  arrayHeader(n: number): this {
    if (n < 16) {
      this.ensure(1);
      this.buf[this.pos++] = 0x90 | n;
    } else if (n < 0x10000) {
      this.ensure(3);
      this.buf[this.pos++] = 0xdc;
      this.buf.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      this.ensure(5);
      this.buf[this.pos++] = 0xdd;
      this.buf.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
    return this;
  }

  mapHeader(n: number): this {
    if (n < 16) {
      this.ensure(1);
      this.buf[this.pos++] = 0x80 | n;
    } else {
      this.ensure(3);
      this.buf[this.pos++] = 0xde;
      this.buf.writeUInt16BE(n, this.pos);
      this.pos += 2;
    }
    return this;
  }

  str(s: string): this {
    const len = Buffer.byteLength(s);
    this.ensure(len + 5);
    if (len < 32) {
      this.buf[this.pos++] = 0xa0 | len;
    } else if (len < 256) {
      this.buf[this.pos++] = 0xd9;
      this.buf[this.pos++] = len;
    } else {
      this.buf[this.pos++] = 0xda;
      this.buf.writeUInt16BE(len, this.pos);
      this.pos += 2;
    }
    this.pos += this.buf.write(s, this.pos);
    return this;
  }

  f64(v: number): this {
    this.ensure(9);
    this.buf[this.pos++] = 0xcb;
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
    return this;
  }

  /** Non-negative integer, smallest encoding. */
  uint(v: number): this {
    this.ensure(9);
    if (v < 128) {
      this.buf[this.pos++] = v;
    } else if (v < 256) {
      this.buf[this.pos++] = 0xcc;
      this.buf[this.pos++] = v;
    } else if (v < 0x10000) {
      this.buf[this.pos++] = 0xcd;
      this.buf.writeUInt16BE(v, this.pos);
      this.pos += 2;
    } else if (v < 0x100000000) {
      this.buf[this.pos++] = 0xce;
      this.buf.writeUInt32BE(v, this.pos);
      this.pos += 4;
    } else {
      this.buf[this.pos++] = 0xcf;
      this.buf.writeBigUInt64BE(BigInt(v), this.pos);
      this.pos += 8;
    }
    return this;
  }

  /** Fixed-width u32 (0xce), so a value can be patched in place later. */
  u32Fixed(v: number): this {
    this.ensure(5);
    this.buf[this.pos++] = 0xce;
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  get length(): number {
    return this.pos;
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
