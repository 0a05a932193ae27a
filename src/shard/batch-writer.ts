// Writes decoded events into a shard's batch region (BATCH_EVENT_BYTES each) as the
// EventSink of a FrameWalker. No allocation per event: metric ids come from a Map lookup.
import { BATCH_EVENT_BYTES, BE_METRIC, BE_SLOT, BE_TS, BE_VALUE, H_BATCH_BASE, H_BATCH_CAP, HEADER_BASE, NO_METRIC } from '../../assembly/layout.js';
import type { EventSink } from './frame-walker.js';

export class BatchWriter implements EventSink {
  len = 0;
  readonly cap: number;
  /** Slot of the device connection whose frame is being written. */
  slot = 0;
  metrics: Map<string, number> = new Map();
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  private readonly onFull: () => void;

  constructor(buffer: SharedArrayBuffer, onFull: () => void) {
    const hdr = new DataView(buffer, HEADER_BASE, 1024);
    const base = hdr.getInt32(H_BATCH_BASE, true);
    this.cap = hdr.getInt32(H_BATCH_CAP, true);
    this.u32 = new Uint32Array(buffer, base, (this.cap * BATCH_EVENT_BYTES) >> 2);
    this.f64 = new Float64Array(buffer, base, (this.cap * BATCH_EVENT_BYTES) >> 3);
    this.onFull = onFull;
  }

  onEvent(_device: string | null, metric: string, ts: number, value: number): void {
    this.push(this.slot, this.metrics.get(metric) ?? NO_METRIC, ts, value);
  }

  push(slot: number, metric: number, ts: number, value: number): void {
    if (this.len === this.cap) this.onFull();
    const at = this.len * BATCH_EVENT_BYTES;
    this.u32[(at + BE_SLOT) >> 2] = slot;
    this.u32[(at + BE_METRIC) >> 2] = metric;
    this.f64[(at + BE_TS) >> 3] = ts;
    this.f64[(at + BE_VALUE) >> 3] = value;
    this.len++;
  }
}
