// Validates a decoded frame against every SPEC §3 shape and feeds its events to a sink.
// Used by workers (device frames) and by the main thread (gateway frames, HTTP bodies).
// The walker itself allocates nothing per event; a frame is checked whole before a caller
// applies any of it (walk once without a sink, then again with one).
import { isDeviceId, isMetricName } from './names.js';
import { WC_BAD_EVENT, WC_BAD_FRAME } from './wire-errors.js';

export interface EventSink {
  /** `device` is null on device connections (the connection names the device). */
  onEvent(device: string | null, metric: string, ts: number, value: number): void;
}

export class FrameWalker {
  /** After a failed walk: WC_* code, message, item index (-1: the frame itself). */
  code = 0;
  message = '';
  index = -1;
  /** `seq` of an acknowledged batch, NaN otherwise (set even when its events are bad). */
  seq = NaN;
  /** Whether the frame was an acknowledged batch. */
  acked = false;
  /** Index of the item being visited (-1: the frame itself), for sinks that reject events. */
  itemIndex = -1;

  private gateway = false;
  private received = 0;
  private sink: EventSink | null = null;

  /** Returns the number of events, or -1 when the frame is rejected. */
  walk(frame: unknown, gateway: boolean, receivedAt: number, sink: EventSink | null): number {
    this.code = 0;
    this.message = '';
    this.index = -1;
    this.seq = NaN;
    this.acked = false;
    this.itemIndex = -1;
    this.gateway = gateway;
    this.received = receivedAt;
    this.sink = sink;
    if (Array.isArray(frame)) return isBatch(frame) ? this.batch(frame) : this.item(frame, -1);
    if (!isMap(frame)) return this.fail(WC_BAD_FRAME, 'a frame is a map or an array', -1);
    const f = frame as Record<string, unknown>;
    if (f.seq !== undefined) {
      const seq = toNumber(f.seq);
      if (!Number.isSafeInteger(seq) || seq < 0) return this.fail(WC_BAD_FRAME, 'seq must be a non-negative integer', -1);
      this.seq = seq;
      this.acked = true;
      if (!Array.isArray(f.events)) return this.fail(WC_BAD_FRAME, 'an acknowledged batch needs an events array', -1);
      return this.batch(f.events);
    }
    return this.item(f, -1);
  }

  private batch(items: unknown[]): number {
    let total = 0;
    for (let i = 0; i < items.length; i++) {
      this.itemIndex = i;
      const n = this.item(items[i], i);
      if (n < 0) return -1;
      total += n;
    }
    return total;
  }

  private item(x: unknown, index: number): number {
    if (Array.isArray(x)) return this.tuple(x, index);
    if (!isMap(x)) return this.fail(WC_BAD_EVENT, 'an event is a map or a tuple', index);
    const e = x as Record<string, unknown>;
    let device: string | null = null;
    if (this.gateway) {
      if (!isDeviceId(e.d)) return this.fail(WC_BAD_EVENT, e.d === undefined ? 'events on a gateway connection need d' : 'd is not a valid device id', index);
      device = e.d;
    }
    const ts = this.time(e.t);
    if (ts !== ts) return this.fail(WC_BAD_EVENT, 't must be a finite number of epoch milliseconds', index);
    if (e.values !== undefined) {
      const values = e.values;
      if (!isMap(values)) return this.fail(WC_BAD_EVENT, 'values must be a map of metric to number', index);
      let n = 0;
      for (const metric in values as Record<string, unknown>) {
        if (!isMetricName(metric)) return this.fail(WC_BAD_EVENT, 'bad metric name in values', index);
        const v = toNumber((values as Record<string, unknown>)[metric]);
        if (!Number.isFinite(v)) return this.fail(WC_BAD_EVENT, `value of ${metric} must be a finite number`, index);
        if (this.sink !== null) this.sink.onEvent(device, metric, ts, v);
        n++;
      }
      return n;
    }
    if (!isMetricName(e.m)) return this.fail(WC_BAD_EVENT, e.m === undefined ? 'missing m' : 'm is not a valid metric name', index);
    const v = toNumber(e.v);
    if (!Number.isFinite(v)) return this.fail(WC_BAD_EVENT, 'v must be a finite number', index);
    if (this.sink !== null) this.sink.onEvent(device, e.m, ts, v);
    return 1;
  }

  private tuple(x: unknown[], index: number): number {
    const off = this.gateway ? 1 : 0;
    if (x.length !== 3 + off) return this.fail(WC_BAD_EVENT, this.gateway ? 'a gateway tuple is [d, t, m, v]' : 'a tuple is [t, m, v]', index);
    let device: string | null = null;
    if (this.gateway) {
      if (!isDeviceId(x[0])) return this.fail(WC_BAD_EVENT, 'd is not a valid device id', index);
      device = x[0];
    }
    const ts = this.time(x[off]);
    if (ts !== ts) return this.fail(WC_BAD_EVENT, 't must be a finite number of epoch milliseconds', index);
    const m = x[off + 1];
    if (!isMetricName(m)) return this.fail(WC_BAD_EVENT, 'm is not a valid metric name', index);
    const v = toNumber(x[off + 2]);
    if (!Number.isFinite(v)) return this.fail(WC_BAD_EVENT, 'v must be a finite number', index);
    if (this.sink !== null) this.sink.onEvent(device, m, ts, v);
    return 1;
  }

  /** Event time or the receive time when absent; NaN when invalid. */
  private time(t: unknown): number {
    if (t === undefined || t === null) return this.received;
    const n = toNumber(t);
    return Number.isFinite(n) ? n : NaN;
  }

  private fail(code: number, message: string, index: number): number {
    this.code = code;
    this.message = message;
    this.index = index;
    return -1;
  }
}

/** Plain maps only: msgpackr decodes oddities (0xc1, extensions) into class instances. */
function isMap(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** A top-level array is a batch when it is empty or its first item is a map or an array. */
function isBatch(a: unknown[]): boolean {
  if (a.length === 0) return true;
  const first = a[0];
  return typeof first === 'object' && first !== null;
}

function toNumber(x: unknown): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'bigint') return Number(x);
  return NaN;
}
