// Validates a device connection's msgpack frame straight from shard memory and writes its
// events into the batch, without decoding into objects: no allocation per event (or per
// frame). Same shapes, codes and indices as FrameWalker (which stays the path for JSON
// frames and gateway frames). With a sink, events are written as they validate; the caller
// rolls the batch back when the frame fails (shard-drainer.ts).
import { WC_BAD_EVENT, WC_BAD_FRAME } from './wire-errors.js';
import type { MetricTable } from './metric-table.js';

export interface BatchSink {
  push(slot: number, metric: number, ts: number, value: number): void;
}

const T_OTHER = 0;
const T_NIL = 1;
const T_NUM = 2;
const T_STR = 3;
const T_ARR = 4;
const T_MAP = 5;

/** Thrown (one shared instance) when a value runs past the end of the frame. */
const TRUNCATED = new Error('truncated msgpack');

const K_M = 0x6d;
const K_V = 0x76;
const K_T = 0x74;

export class MsgpackFrameReader {
  code = 0;
  message = '';
  index = -1;
  seq = NaN;
  acked = false;

  private u8: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(new ArrayBuffer(0));
  private pos = 0;
  private end = 0;
  private slot = 0;
  private received = 0;
  private sink: BatchSink | null = null;
  private num = 0;
  private strStart = 0;
  private strLen = 0;

  constructor(private readonly metrics: MetricTable) {}

  /** Views over the memory holding frames (call again when they change). */
  bind(u8: Uint8Array, dv: DataView): void {
    this.u8 = u8;
    this.dv = dv;
  }

  /** Events in `[start, end)`, or -1 with code/message/index set. With a sink, writes them. */
  read(start: number, end: number, slot: number, received: number, sink: BatchSink | null): number {
    this.code = 0;
    this.message = '';
    this.index = -1;
    this.seq = NaN;
    this.acked = false;
    this.pos = start;
    this.end = end;
    this.slot = slot;
    this.received = received;
    this.sink = sink;
    try {
      const n = this.frame();
      if (n >= 0 && this.pos !== end) return this.fail(WC_BAD_FRAME, 'not valid msgpack', -1);
      return n;
    } catch (e) {
      if (e !== TRUNCATED) throw e;
      return this.fail(WC_BAD_FRAME, 'not valid msgpack', -1);
    }
  }

  /** `seq` of an acknowledged batch in `[start, end)` without reading its events; NaN when none. */
  peekSeq(start: number, end: number): number {
    this.pos = start;
    this.end = end;
    try {
      if (this.type() !== T_MAP) return NaN;
      const n = this.mapLen();
      for (let i = 0; i < n; i++) {
        if (this.type() === T_STR) {
          this.str();
          if (this.keyIs3(0x73, 0x65, 0x71)) return this.number() && Number.isSafeInteger(this.num) && this.num >= 0 ? this.num : NaN;
        } else this.skip();
        this.skip();
      }
    } catch (e) {
      if (e !== TRUNCATED) throw e;
    }
    return NaN;
  }

  private frame(): number {
    const t = this.type();
    if (t === T_ARR) {
      const at = this.pos;
      const n = this.arrLen();
      if (n === 0) return 0;
      const first = this.type();
      if (first === T_MAP || first === T_ARR) return this.items(n);
      this.pos = at;
      return this.item(-1);
    }
    if (t !== T_MAP) return this.fail(WC_BAD_FRAME, 'a frame is a map or an array', -1);
    // {seq, events} or one event / reading: look for seq first
    const at = this.pos;
    const n = this.mapLen();
    let seqPos = -1;
    let eventsPos = -1;
    let mapEnd = -1;
    for (let i = 0; i < n; i++) {
      if (this.type() === T_STR) {
        this.str();
        if (this.isUndefined()) {
          // msgpackr writes JS undefined as an extension: a key set to it is absent
        } else if (this.keyIs3(0x73, 0x65, 0x71)) seqPos = this.pos;
        else if (this.strLen === 6 && this.keyIsEvents()) {
          eventsPos = this.pos;
          // `{seq, events}` in that order (what clients write): the events are read once,
          // below, instead of skipped here and read again; the map ends where they end.
          if (i === n - 1 && seqPos >= 0) break;
        }
      } else this.skip();
      this.skip();
      if (i === n - 1) mapEnd = this.pos;
    }
    if (n === 0) mapEnd = this.pos;
    if (seqPos < 0) {
      this.pos = at;
      return this.item(-1);
    }
    this.pos = seqPos;
    if (!this.number() || !Number.isSafeInteger(this.num) || this.num < 0) return this.fail(WC_BAD_FRAME, 'seq must be a non-negative integer', -1);
    this.seq = this.num;
    this.acked = true;
    if (eventsPos < 0) return this.fail(WC_BAD_FRAME, 'an acknowledged batch needs an events array', -1);
    this.pos = eventsPos;
    if (this.type() !== T_ARR) return this.fail(WC_BAD_FRAME, 'an acknowledged batch needs an events array', -1);
    const count = this.arrLen();
    const r = this.items(count);
    if (mapEnd >= 0) this.pos = mapEnd; // the rest of the map was checked by the key scan
    return r;
  }

  private items(n: number): number {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const k = this.item(i);
      if (k < 0) return -1;
      total += k;
    }
    return total;
  }

  /** One event, reading or tuple at pos. */
  private item(index: number): number {
    const t = this.type();
    if (t === T_ARR) return this.tuple(index);
    if (t !== T_MAP) return this.fail(WC_BAD_EVENT, 'an event is a map or a tuple', index);
    const n = this.mapLen();
    let mPos = -1;
    let vPos = -1;
    let tPos = -1;
    let valuesPos = -1;
    for (let i = 0; i < n; i++) {
      if (this.type() === T_STR) {
        this.str();
        const p = this.pos;
        if (this.isUndefined()) {
          // absent, as above
        } else if (this.strLen === 1) {
          const c = this.u8[this.strStart];
          if (c === K_M) mPos = p;
          else if (c === K_V) vPos = p;
          else if (c === K_T) tPos = p;
        } else if (this.strLen === 6 && this.keyIsValues()) valuesPos = p;
      } else this.skip();
      this.skip();
    }
    const after = this.pos;
    const ts = this.time(tPos);
    if (ts !== ts) return this.fail(WC_BAD_EVENT, 't must be a finite number of epoch milliseconds', index);
    if (valuesPos >= 0) {
      this.pos = valuesPos;
      if (this.type() !== T_MAP) return this.fail(WC_BAD_EVENT, 'values must be a map of metric to number', index);
      const k = this.mapLen();
      for (let i = 0; i < k; i++) {
        if (this.type() !== T_STR) return this.fail(WC_BAD_EVENT, 'bad metric name in values', index);
        this.str();
        const metric = this.metrics.lookup(this.u8, this.strStart, this.strLen);
        if (metric === -1) return this.fail(WC_BAD_EVENT, 'bad metric name in values', index);
        if (!this.number() || !Number.isFinite(this.num)) return this.fail(WC_BAD_EVENT, 'a value in values must be a finite number', index);
        if (this.sink !== null) this.sink.push(this.slot, metric, ts, this.num);
      }
      this.pos = after;
      return k;
    }
    if (mPos < 0) return this.fail(WC_BAD_EVENT, 'missing m', index);
    this.pos = mPos;
    if (this.type() !== T_STR) return this.fail(WC_BAD_EVENT, 'm is not a valid metric name', index);
    this.str();
    const metric = this.metrics.lookup(this.u8, this.strStart, this.strLen);
    if (metric === -1) return this.fail(WC_BAD_EVENT, 'm is not a valid metric name', index);
    if (vPos < 0) return this.fail(WC_BAD_EVENT, 'v must be a finite number', index);
    this.pos = vPos;
    if (!this.number() || !Number.isFinite(this.num)) return this.fail(WC_BAD_EVENT, 'v must be a finite number', index);
    if (this.sink !== null) this.sink.push(this.slot, metric, ts, this.num);
    this.pos = after;
    return 1;
  }

  /** `[t, m, v]` */
  private tuple(index: number): number {
    const n = this.arrLen();
    if (n !== 3) return this.fail(WC_BAD_EVENT, 'a tuple is [t, m, v]', index);
    let ts: number;
    // The common case, a number, is read in place; anything else goes the general way.
    if (this.number()) ts = Number.isFinite(this.num) ? this.num : NaN;
    else {
      const tPos = this.pos;
      this.skip();
      ts = this.time(tPos);
    }
    if (ts !== ts) return this.fail(WC_BAD_EVENT, 't must be a finite number of epoch milliseconds', index);
    if (this.type() !== T_STR) return this.fail(WC_BAD_EVENT, 'm is not a valid metric name', index);
    this.str();
    const metric = this.metrics.lookup(this.u8, this.strStart, this.strLen);
    if (metric === -1) return this.fail(WC_BAD_EVENT, 'm is not a valid metric name', index);
    if (!this.number() || !Number.isFinite(this.num)) return this.fail(WC_BAD_EVENT, 'v must be a finite number', index);
    if (this.sink !== null) this.sink.push(this.slot, metric, ts, this.num);
    return 1;
  }

  /** Event time at `p` (-1: absent); the receive time for absent/nil, NaN when invalid. Leaves pos alone. */
  private time(p: number): number {
    if (p < 0) return this.received;
    const save = this.pos;
    this.pos = p;
    let r: number;
    if (this.type() === T_NIL || this.isUndefined()) r = this.received;
    else r = this.number() && Number.isFinite(this.num) ? this.num : NaN;
    this.pos = save;
    return r;
  }

  // ---- msgpack primitives ----

  private byte(p: number): number {
    if (p >= this.end) throw TRUNCATED;
    return this.u8[p];
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw TRUNCATED;
  }

  private type(): number {
    const b = this.byte(this.pos);
    if (b <= 0x7f || b >= 0xe0) return T_NUM;
    if (b <= 0x8f) return T_MAP;
    if (b <= 0x9f) return T_ARR;
    if (b <= 0xbf) return T_STR;
    switch (b) {
      case 0xc0: return T_NIL;
      case 0xca: case 0xcb: case 0xcc: case 0xcd: case 0xce: case 0xcf:
      case 0xd0: case 0xd1: case 0xd2: case 0xd3: return T_NUM;
      case 0xd9: case 0xda: case 0xdb: return T_STR;
      case 0xdc: case 0xdd: return T_ARR;
      case 0xde: case 0xdf: return T_MAP;
      default: return T_OTHER;
    }
  }

  /** Reads a number into `num`; false (pos unchanged) when the value is not one. */
  private number(): boolean {
    const b = this.byte(this.pos);
    const dv = this.dv;
    const p = this.pos + 1;
    if (b <= 0x7f) { this.num = b; this.pos = p; return true; }
    if (b >= 0xe0) { this.num = b - 256; this.pos = p; return true; }
    switch (b) {
      case 0xca: this.need(5); this.num = dv.getFloat32(p); this.pos = p + 4; return true;
      case 0xcb: this.need(9); this.num = dv.getFloat64(p); this.pos = p + 8; return true;
      case 0xcc: this.need(2); this.num = dv.getUint8(p); this.pos = p + 1; return true;
      case 0xcd: this.need(3); this.num = dv.getUint16(p); this.pos = p + 2; return true;
      case 0xce: this.need(5); this.num = dv.getUint32(p); this.pos = p + 4; return true;
      case 0xcf: this.need(9); this.num = dv.getUint32(p) * 4294967296 + dv.getUint32(p + 4); this.pos = p + 8; return true;
      case 0xd0: this.need(2); this.num = dv.getInt8(p); this.pos = p + 1; return true;
      case 0xd1: this.need(3); this.num = dv.getInt16(p); this.pos = p + 2; return true;
      case 0xd2: this.need(5); this.num = dv.getInt32(p); this.pos = p + 4; return true;
      case 0xd3: this.need(9); this.num = dv.getInt32(p) * 4294967296 + dv.getUint32(p + 4); this.pos = p + 8; return true;
      default: return false;
    }
  }

  private str(): void {
    const b = this.byte(this.pos);
    const dv = this.dv;
    let len: number;
    let p = this.pos + 1;
    if (b >= 0xa0 && b <= 0xbf) len = b & 0x1f;
    else if (b === 0xd9) { this.need(2); len = dv.getUint8(p); p += 1; }
    else if (b === 0xda) { this.need(3); len = dv.getUint16(p); p += 2; }
    else { this.need(5); len = dv.getUint32(p); p += 4; }
    if (p + len > this.end) throw TRUNCATED;
    this.strStart = p;
    this.strLen = len;
    this.pos = p + len;
  }

  private arrLen(): number {
    const b = this.byte(this.pos);
    if (b <= 0x9f) { this.pos += 1; return b & 0x0f; }
    return this.len16or32(b === 0xdc);
  }

  private mapLen(): number {
    const b = this.byte(this.pos);
    if (b <= 0x8f) { this.pos += 1; return b & 0x0f; }
    return this.len16or32(b === 0xde);
  }

  private len16or32(is16: boolean): number {
    const p = this.pos + 1;
    if (is16) { this.need(3); this.pos = p + 2; return this.dv.getUint16(p); }
    this.need(5);
    this.pos = p + 4;
    return this.dv.getUint32(p);
  }

  /** Skips one value of any type (iteratively: nesting depth cannot overflow the stack). */
  private skip(): void {
    let pending = 1;
    while (pending > 0) {
      pending--;
      const b = this.byte(this.pos);
      const dv = this.dv;
      const p = this.pos + 1;
      if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) { this.pos = p; continue; }
      if (b <= 0x8f) { this.pos = p; pending += 2 * (b & 0x0f); continue; }
      if (b <= 0x9f) { this.pos = p; pending += b & 0x0f; continue; }
      if (b <= 0xbf || b === 0xd9 || b === 0xda || b === 0xdb) { this.str(); continue; }
      let size = -1;
      switch (b) {
        case 0xc4: this.need(2); size = 2 + dv.getUint8(p); break;
        case 0xc5: this.need(3); size = 3 + dv.getUint16(p); break;
        case 0xc6: this.need(5); size = 5 + dv.getUint32(p); break;
        case 0xc7: this.need(2); size = 3 + dv.getUint8(p); break;
        case 0xc8: this.need(3); size = 4 + dv.getUint16(p); break;
        case 0xc9: this.need(5); size = 6 + dv.getUint32(p); break;
        case 0xca: size = 5; break;
        case 0xcb: size = 9; break;
        case 0xcc: case 0xd0: size = 2; break;
        case 0xcd: case 0xd1: size = 3; break;
        case 0xce: case 0xd2: size = 5; break;
        case 0xcf: case 0xd3: size = 9; break;
        case 0xd4: size = 3; break;
        case 0xd5: size = 4; break;
        case 0xd6: size = 6; break;
        case 0xd7: size = 10; break;
        case 0xd8: size = 18; break;
        case 0xdc: case 0xdd: pending += this.arrLen(); continue;
        case 0xde: case 0xdf: pending += 2 * this.mapLen(); continue;
        default: throw TRUNCATED; // 0xc1: never used
      }
      this.need(size);
      this.pos += size;
    }
  }

  /** msgpackr's encoding of `undefined`: fixext1, type 0, data 0. */
  private isUndefined(): boolean {
    const p = this.pos;
    return p + 3 <= this.end && this.u8[p] === 0xd4 && this.u8[p + 1] === 0 && this.u8[p + 2] === 0;
  }

  private keyIs3(a: number, b: number, c: number): boolean {
    const u = this.u8;
    const s = this.strStart;
    return this.strLen === 3 && u[s] === a && u[s + 1] === b && u[s + 2] === c;
  }

  private keyIsEvents(): boolean {
    const u = this.u8;
    const s = this.strStart;
    return u[s] === 0x65 && u[s + 1] === 0x76 && u[s + 2] === 0x65 && u[s + 3] === 0x6e && u[s + 4] === 0x74 && u[s + 5] === 0x73;
  }

  private keyIsValues(): boolean {
    const u = this.u8;
    const s = this.strStart;
    return u[s] === 0x76 && u[s + 1] === 0x61 && u[s + 2] === 0x6c && u[s + 3] === 0x75 && u[s + 4] === 0x65 && u[s + 5] === 0x73;
  }

  private fail(code: number, message: string, index: number): number {
    this.code = code;
    this.message = message;
    this.index = index;
    return -1;
  }
}
