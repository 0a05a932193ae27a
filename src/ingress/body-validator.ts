// Counts and validates a device's HTTP body on the main thread (no decoding into objects
// for msgpack), so POST /v1/events can answer before the worker applies it.
import { FrameWalker } from '../shard/frame-walker.js';
import { MetricTable } from '../shard/metric-table.js';
import { MsgpackFrameReader } from '../shard/msgpack-frame-reader.js';
import { WC_BAD_FRAME } from '../shard/wire-errors.js';
import { decodeFrame } from './ingest-core.js';

export class BodyValidator {
  code = 0;
  message = '';
  index = -1;
  // An empty table: every well-formed metric name is valid (ids do not matter here).
  private readonly reader = new MsgpackFrameReader(new MetricTable());
  private readonly walker = new FrameWalker();

  /** Events in the body, or -1 with code (WC_*), message and index set. */
  count(body: Uint8Array, json: boolean, received: number): number {
    if (json) {
      const d = decodeFrame(body, true);
      if (!d.ok) return this.fail(WC_BAD_FRAME, 'not valid JSON', -1);
      const n = this.walker.walk(d.value, false, received, null);
      return n < 0 ? this.fail(this.walker.code, this.walker.message, this.walker.index) : n;
    }
    this.reader.bind(body, new DataView(body.buffer, body.byteOffset, body.byteLength));
    const n = this.reader.read(0, body.byteLength, 0, received, null);
    return n < 0 ? this.fail(this.reader.code, this.reader.message, this.reader.index) : n;
  }

  private fail(code: number, message: string, index: number): number {
    this.code = code;
    this.message = message;
    this.index = index;
    return -1;
  }
}
