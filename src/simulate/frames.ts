// Pre-encoded frames. The simulator never encodes on its send path: it builds a small pool
// of complete WebSocket frames (header + zero mask + msgpack payload) once, and rebuilds the
// pool only when the event timestamps are refreshed (once a second), so event time follows
// the wall clock at one-second granularity.
import { MsgpackWriter } from './msgpack-writer.js';

export type FrameShape = 'tuple' | 'map' | 'reading';

export interface FramePoolOptions {
  shape: FrameShape;
  /** Events per frame for tuple/map; readings per frame for `reading` (2 values each). */
  batch: number;
  gateway: boolean;
  devices: number;
  /** Device id prefix: ids are `${prefix}${n}`. */
  prefix: string;
  /** Frames in the pool (more frames: more distinct values and gateway devices). */
  poolSize?: number;
}

export interface PooledFrame {
  /** Complete masked WebSocket binary frame carrying the batch (no ack). */
  ws: Buffer;
  /** The msgpack array of events alone, for `{seq, events}` frames. */
  events: Buffer;
}

const READING_METRICS = ['temperature', 'humidity'] as const;
const KEY_SEQ = Buffer.from([0xa3, 0x73, 0x65, 0x71]); // "seq"
const KEY_EVENTS = Buffer.from([0xa6, 0x65, 0x76, 0x65, 0x6e, 0x74, 0x73]); // "events"

/** Length of a WebSocket header for a masked client frame carrying `len` payload bytes. */
export function wsHeaderLength(len: number): number {
  return (len < 126 ? 2 : len < 0x10000 ? 4 : 10) + 4;
}

/** Writes a masked client frame header with an all-zero mask key, so the payload goes out as is. */
export function writeWsHeader(target: Buffer, offset: number, len: number, opcode: number): number {
  let p = offset;
  target[p++] = 0x80 | opcode;
  if (len < 126) {
    target[p++] = 0x80 | len;
  } else if (len < 0x10000) {
    target[p++] = 0x80 | 126;
    target.writeUInt16BE(len, p);
    p += 2;
  } else {
    target[p++] = 0x80 | 127;
    target.writeUInt32BE(Math.floor(len / 0x100000000), p);
    target.writeUInt32BE(len >>> 0, p + 4);
    p += 8;
  }
  target.writeUInt32BE(0, p); // mask key 0: XOR leaves the payload unchanged
  return p + 4;
}

/** One complete masked client frame around `payload`. */
export function wsFrame(payload: Uint8Array, opcode = 2): Buffer {
  const out = Buffer.allocUnsafe(wsHeaderLength(payload.length) + payload.length);
  const p = writeWsHeader(out, 0, payload.length, opcode);
  out.set(payload, p);
  return out;
}

/** The part of an acknowledged frame before its events: WS header and `{seq: n, events:`. */
export function ackFramePrefix(seq: number, eventsBytes: number): Buffer {
  const msgLen = 1 + KEY_SEQ.length + 5 + KEY_EVENTS.length + eventsBytes;
  const out = Buffer.allocUnsafe(wsHeaderLength(msgLen) + msgLen - eventsBytes);
  let p = writeWsHeader(out, 0, msgLen, 2);
  out[p++] = 0x82;
  p += KEY_SEQ.copy(out, p);
  out[p++] = 0xce;
  out.writeUInt32BE(seq >>> 0, p);
  p += 4;
  KEY_EVENTS.copy(out, p);
  return out;
}

/** A complete `{seq, events: []}` frame: a flush barrier the engine acks once all before it is applied. */
export function barrierFrame(seq: number): Buffer {
  const empty = Buffer.from([0x90]);
  return Buffer.concat([ackFramePrefix(seq, 1), empty]);
}

export function eventsPerFrame(shape: FrameShape, batch: number): number {
  return shape === 'reading' ? batch * READING_METRICS.length : batch;
}

function valueAt(i: number): number {
  // Deterministic spread in [65, 75): realistic thermostat readings that rarely trip the demo rules.
  return 65 + ((i * 7919) % 1000) / 100;
}

function writeEvent(w: MsgpackWriter, o: FramePoolOptions, i: number, t: number): void {
  const device = o.gateway ? `${o.prefix}${i % o.devices}` : '';
  const v = valueAt(i);
  if (o.shape === 'tuple') {
    w.arrayHeader(o.gateway ? 4 : 3);
    if (o.gateway) w.str(device);
    w.f64(t).str('temperature').f64(v);
  } else if (o.shape === 'map') {
    w.mapHeader(o.gateway ? 4 : 3);
    w.str('m').str('temperature').str('v').f64(v).str('t').f64(t);
    if (o.gateway) w.str('d').str(device);
  } else {
    w.mapHeader(o.gateway ? 3 : 2);
    w.str('t').f64(t);
    if (o.gateway) w.str('d').str(device);
    w.str('values').mapHeader(READING_METRICS.length);
    for (let k = 0; k < READING_METRICS.length; k++) w.str(READING_METRICS[k]).f64(k === 0 ? v : v - 30);
  }
}

export class FramePool {
  readonly frames: PooledFrame[] = [];
  /** Same size as the others, but its last event's value is a string: `bad_event`, rejected whole. */
  bad: PooledFrame = { ws: Buffer.alloc(0), events: Buffer.alloc(0) };
  readonly eventsPerFrame: number;
  private readonly size: number;

  constructor(private readonly opts: FramePoolOptions, nowMs: number) {
    const spread = opts.gateway ? Math.ceil(opts.devices / Math.max(1, opts.batch)) : 1;
    this.size = opts.poolSize ?? Math.min(1024, Math.max(16, spread));
    this.eventsPerFrame = eventsPerFrame(opts.shape, opts.batch);
    this.refresh(nowMs);
  }

  /** Rebuilds every frame with event time `nowMs` (new buffers: frames in flight keep theirs). */
  refresh(nowMs: number): void {
    const t = Math.floor(nowMs);
    const w = new MsgpackWriter(64 * this.opts.batch + 16);
    for (let j = 0; j < this.size; j++) {
      w.reset();
      w.arrayHeader(this.opts.batch);
      for (let i = 0; i < this.opts.batch; i++) writeEvent(w, this.opts, j * this.opts.batch + i, t);
      const events = w.toBuffer();
      this.frames[j] = { ws: wsFrame(events), events };
    }
    w.reset();
    w.arrayHeader(this.opts.batch);
    for (let i = 0; i < this.opts.batch - 1; i++) writeEvent(w, this.opts, i, t);
    w.arrayHeader(this.opts.gateway ? 4 : 3);
    if (this.opts.gateway) w.str(`${this.opts.prefix}0`);
    w.f64(t).str('temperature').str('not-a-number');
    const bad = w.toBuffer();
    this.bad = { ws: wsFrame(bad), events: bad };
  }
}
