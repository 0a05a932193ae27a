// One worker's view of one shard: drains ring records into the kernel and writes replies.
// Any worker may drain any shard (the scheduler runs at most one drain per shard at a
// time), so everything durable lives in shard memory; this object only caches views.
import {
  H_ACTIVE_EPOCH, H_ACTIVE_PROG, H_RING_WRITE, H_DEVICES, H_OUT_BASE, H_OUT_LEN, H_OUT_SIZE, H_PROG_BASE0, H_PROG_BASE1, HEADER_BASE,
  ATTR_ENTRY_BYTES, NO_METRIC, P_META_LEN, P_META_OFF, R_CONN, R_FLAGS, R_RECEIVED, R_SLOT, RF_HTTP, RING_HEADER_BYTES,
  RK_ATTRS, RK_BARRIER, RK_FRAME_JSON, RK_FRAME_MSGPACK, RK_PROGRAM, RK_REMOVE, RK_ROUTED, RK_TICK,
} from '../../assembly/layout.js';
import { BatchWriter } from './batch-writer.js';
import { FrameWalker } from './frame-walker.js';
import { MetricTable } from './metric-table.js';
import { MsgpackFrameReader } from './msgpack-frame-reader.js';
import { ACK_BYTES, MAX_ERROR_BYTES, writeAck, writeError } from './outbox.js';
import { RingReader } from './ring-reader.js';
import { WC_BAD_FRAME } from './wire-errors.js';

/** The kernel exports the worker uses (docs/internals.md "Kernel exports"). */
export interface KernelApi {
  applyBatch(from: number, to: number, nowMs: number): number;
  tick(fromSlot: number, nowMs: number): number;
  setAttrs(slot: number, ptr: number, n: number): void;
  removeDevice(slot: number): void;
  switchProgram(progSlot: number): void;
}

export interface DrainResult {
  /** Outbox contents that were spilled before the task ended (the rest stays in shard memory). */
  chunks: Uint8Array[];
  records: number;
  busyMs: number;
  /** Events in accepted raw frames (routed events are counted by the main thread). */
  eventsIn: number;
  /** Earliest receive time of the frames drained (NaN when none), for ingest→action latency. */
  firstReceived: number;
}

/**
 * Per-task limits. A task that ends needs the main thread to start the next one, and under
 * a flood the main thread gets to that only between frames it reads (TaskStatus polling) or
 * once per event-loop turn, which can last hundreds of ms. So while nothing needs the main
 * thread (no replies, no action records) a task keeps draining up to LONG_TASK_MS, and when
 * its ring runs dry it waits for refills, unless another shard has records for this worker:
 * then it yields at once when dry, or after SLICE_MS (their latency is at stake).
 * Replies wait for the task's end, so a task with replies or transitions ends after SOON_MS.
 */
const MAX_RECORDS = 1 << 20;
const MAX_BYTES = 256 << 20;
const LONG_TASK_MS = 100;
/** A task yields after this long when another shard has records waiting for the worker. */
const SLICE_MS = 5;
/** Budget of a task whose acks or action records are waiting. */
const SOON_MS = 1;
/** One wait for more records when the ring runs dry. */
const WAIT_MS = 0.25;

interface PendingReply { reply: number; flags: number; seq: number; accepted: number; index: number; code: number; message: string }

const decoder = new TextDecoder();

export class ShardDrainer {
  private readonly buffer: SharedArrayBuffer;
  private readonly hdr: DataView;
  /** The regions below the arena never move, so one view of the initial buffer covers them. */
  private readonly low: DataView;
  private readonly u8: Uint8Array;
  private readonly ctl: Int32Array;
  private readonly ring: RingReader;
  private readonly batch: BatchWriter;
  private readonly walker = new FrameWalker();
  private readonly metricTable = new MetricTable();
  private readonly reader = new MsgpackFrameReader(this.metricTable);
  private readonly outBase: number;
  private readonly outSize: number;
  private outU8: Uint8Array;
  private outDv: DataView;
  private epoch = -1;
  private chunks: Uint8Array[] = [];
  private pending: PendingReply[] = [];
  private eventsIn = 0;
  private firstReceived = NaN;

  /**
   * `othersBusy`: whether another shard's ring holds records or the main thread waits for
   * this task; `yieldRequested`: only the latter. Both are checked between records, never per event.
   */
  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly kernel: KernelApi,
    private readonly othersBusy: () => boolean = () => false,
    private readonly yieldRequested: () => boolean = () => false,
  ) {
    this.buffer = memory.buffer as unknown as SharedArrayBuffer;
    this.hdr = new DataView(this.buffer, HEADER_BASE, 1024);
    this.low = new DataView(this.buffer);
    this.ctl = new Int32Array(this.buffer, HEADER_BASE, 256);
    this.ring = new RingReader(this.buffer);
    this.batch = new BatchWriter(this.buffer, () => this.flush());
    this.outBase = this.hdr.getInt32(H_OUT_BASE, true);
    this.outSize = this.hdr.getInt32(H_OUT_SIZE, true);
    this.outU8 = new Uint8Array(this.buffer, this.outBase, this.outSize);
    this.outDv = new DataView(this.buffer, this.outBase, this.outSize);
    this.u8 = new Uint8Array(this.buffer);
    this.reader.bind(this.u8, this.low);
  }

  drain(): DrainResult {
    const t0 = performance.now();
    this.chunks = [];
    this.eventsIn = 0;
    this.firstReceived = NaN;
    Atomics.store(this.ctl, H_OUT_LEN >> 2, 0);
    this.refreshMetrics();
    let records = 0;
    let bytes = 0;
    const ring = this.ring;
    let waited = 0;
    while (records < MAX_RECORDS && bytes < MAX_BYTES) {
      if (!ring.next()) {
        const w = this.waitForMore(t0, records);
        waited += w;
        if (w === 0) break;
        continue;
      }
      if ((records & 63) === 63 && this.timeUp(performance.now() - t0)) break;
      try {
        this.record();
      } catch (e) {
        // A bug must not wedge the shard: answer the frame and move on.
        const conn = this.hdrU32(R_CONN);
        if (conn !== 0) this.pending.push({ reply: conn, flags: this.ringU8(R_FLAGS), seq: NaN, accepted: -1, index: -1, code: WC_BAD_FRAME, message: `internal error: ${(e as Error).message}` });
      }
      bytes += ring.len + RING_HEADER_BYTES;
      records++;
      ring.consume();
    }
    this.flush();
    return { chunks: this.chunks, records, busyMs: performance.now() - t0 - waited, eventsIn: this.eventsIn, firstReceived: this.firstReceived };
  }

  /** Ends a long task: at the budget, or sooner when acks or transitions are waiting for it. */
  private timeUp(elapsed: number): boolean {
    if (elapsed > LONG_TASK_MS || (elapsed > SLICE_MS && this.othersBusy())) return true;
    return elapsed > SOON_MS && (this.needsMain() || this.yieldRequested());
  }

  private needsMain(): boolean {
    return this.pending.length > 0 || this.chunks.length > 0 || Atomics.load(this.ctl, H_OUT_LEN >> 2) > 0;
  }

  /**
   * The ring ran dry: apply what we have and, when nothing needs the main thread (no
   * replies, no transitions) and no other shard waits for this worker, wait briefly for
   * more instead of ending the task, because starting the next one needs the main thread,
   * which is busiest exactly then. Returns the ms waited (0: end the task now).
   */
  private waitForMore(t0: number, records: number): number {
    if (records === 0 || this.pending.length > 0) return 0;
    if (performance.now() - t0 > LONG_TASK_MS) return 0;
    this.flush();
    if (this.needsMain() || this.othersBusy()) return 0;
    const w0 = performance.now();
    Atomics.wait(this.ctl, H_RING_WRITE >> 2, Atomics.load(this.ctl, H_RING_WRITE >> 2), WAIT_MS);
    return Math.max(performance.now() - w0, 1e-6);
  }

  private record(): void {
    const ring = this.ring;
    switch (ring.kind) {
      case RK_FRAME_MSGPACK:
      case RK_FRAME_JSON:
        this.frame(ring.kind === RK_FRAME_JSON);
        return;
      case RK_ROUTED:
        this.routed();
        return;
      case RK_ATTRS:
        this.flush();
        this.kernel.setAttrs(this.hdrU32(R_SLOT), ring.at + RING_HEADER_BYTES, (ring.len / ATTR_ENTRY_BYTES) | 0);
        return;
      case RK_REMOVE:
        this.flush();
        this.kernel.removeDevice(this.hdrU32(R_SLOT));
        return;
      case RK_TICK:
        this.flush();
        this.tick(this.ringF64(R_RECEIVED));
        return;
      case RK_PROGRAM: {
        this.flush();
        this.kernel.switchProgram(this.low.getUint32(ring.at + RING_HEADER_BYTES, true));
        this.refreshMetrics();
        return;
      }
      case RK_BARRIER: {
        const conn = this.hdrU32(R_CONN);
        if (conn !== 0) this.pending.push({ reply: conn, flags: this.ringU8(R_FLAGS), seq: NaN, accepted: 0, index: -1, code: 0, message: '' });
        return;
      }
    }
  }

  /** JSON text frames: decoded into objects (the rare path), validated by FrameWalker. */
  private frame(json: boolean): void {
    const ring = this.ring;
    const conn = this.hdrU32(R_CONN);
    const flags = this.ringU8(R_FLAGS);
    const received = this.ringF64(R_RECEIVED);
    if (!(received >= this.firstReceived)) this.firstReceived = received;
    if (!json) {
      this.msgpackFrame(conn, flags, received);
      return;
    }
    const bytes = new Uint8Array(this.buffer, ring.at + RING_HEADER_BYTES, ring.len);
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(bytes.slice()));
    } catch {
      if (conn !== 0) this.pending.push({ reply: conn, flags, seq: NaN, accepted: -1, index: -1, code: WC_BAD_FRAME, message: 'not valid JSON' });
      return;
    }
    const w = this.walker;
    const n = w.walk(value, false, received, null);
    if (n < 0) {
      if (conn !== 0) this.pending.push({ reply: conn, flags, seq: w.seq, accepted: -1, index: w.index, code: w.code, message: w.message });
      return;
    }
    if (this.batch.len + n > this.batch.cap) this.flush();
    this.batch.slot = this.hdrU32(R_SLOT);
    w.walk(value, false, received, this.batch);
    this.eventsIn += n;
    if (conn !== 0 && (w.acked || (flags & RF_HTTP) !== 0)) this.pending.push({ reply: conn, flags, seq: w.seq, accepted: n, index: -1, code: 0, message: '' });
  }

  /** The hot path: validated and written straight from the ring, no decoding into objects. */
  private msgpackFrame(conn: number, flags: number, received: number): void {
    const ring = this.ring;
    const r = this.reader;
    const start = ring.at + RING_HEADER_BYTES;
    const end = start + ring.len;
    const slot = this.hdrU32(R_SLOT);
    const batch = this.batch;
    // Every event the reader writes takes at least 3 bytes of the frame (SPEC shapes), so
    // with this much room the frame is written in one pass and rolled back when it fails.
    const room = (ring.len >> 1) + 1;
    if (batch.len + room > batch.cap) this.flush();
    let n: number;
    if (batch.len + room <= batch.cap) {
      const mark = batch.len;
      n = r.read(start, end, slot, received, batch);
      if (n < 0) batch.len = mark;
    } else {
      // A frame larger than the batch: validate first, then write (the writer flushes as it fills).
      n = r.read(start, end, slot, received, null);
      if (n >= 0) {
        if (batch.len + n > batch.cap) this.flush();
        r.read(start, end, slot, received, batch);
      }
    }
    if (n < 0) {
      if (conn !== 0) this.pending.push({ reply: conn, flags, seq: r.seq, accepted: -1, index: r.index, code: r.code, message: r.message });
      return;
    }
    this.eventsIn += n;
    if (conn !== 0 && (r.acked || (flags & RF_HTTP) !== 0)) this.pending.push({ reply: conn, flags, seq: r.seq, accepted: n, index: -1, code: 0, message: '' });
  }

  /** `[[slot, t, m, v], …]` re-encoded by the main thread, which validated every event. */
  private routed(): void {
    const ring = this.ring;
    const conn = this.hdrU32(R_CONN);
    const flags = this.ringU8(R_FLAGS);
    const received = this.ringF64(R_RECEIVED);
    if (!(received >= this.firstReceived)) this.firstReceived = received;
    // Fixed layout written by src/ingress/routed-encoder.ts: array32 of
    // [uint32 slot, float64 t, str8 m, float64 v].
    const low = this.low;
    let p = ring.at + RING_HEADER_BYTES;
    const count = low.getUint32(p + 1);
    p += 5;
        for (let i = 0; i < count; i++) {
      const slot = low.getUint32(p + 2);
      const ts = low.getFloat64(p + 7);
      const mlen = low.getUint8(p + 16);
      const metric = this.metricTable.lookup(this.u8, p + 17, mlen);
      const v = low.getFloat64(p + 18 + mlen);
      this.batch.push(slot, metric < 0 ? NO_METRIC : metric, ts, v);
      p += 26 + mlen;
    }
    if (conn !== 0) this.pending.push({ reply: conn, flags, seq: NaN, accepted: count, index: -1, code: 0, message: '' });
  }

  private tick(nowMs: number): void {
    let slot = 0;
    for (;;) {
      const next = this.kernel.tick(slot, nowMs);
      if (next <= slot || next >= this.hdr.getFloat64(H_DEVICES, true)) return;
      this.spill();
      slot = next;
    }
  }

  /** Applies the batch, then writes the replies of every frame it completed. */
  private flush(): void {
    const n = this.batch.len;
    let i = 0;
    const now = Date.now();
    try {
      while (i < n) {
        const before = Atomics.load(this.ctl, H_OUT_LEN >> 2);
        const j = this.kernel.applyBatch(i, n, now);
        if (j < n) {
          if (j === i && before === 0) throw new Error('kernel made no progress with an empty outbox');
          this.spill();
        }
        i = j;
      }
    } catch (e) {
      // A kernel fault must not wedge the shard or leave clients waiting: the frames of
      // this batch are answered with an error instead of an ack (nothing acked is lost).
      const message = `internal error: ${(e as Error).message}`;
      for (const p of this.pending) {
        if (p.accepted < 0) continue;
        p.accepted = -1;
        p.code = WC_BAD_FRAME;
        p.message = message;
      }
    }
    this.batch.len = 0;
    const pending = this.pending;
    for (let k = 0; k < pending.length; k++) this.reply(pending[k]);
    pending.length = 0;
  }

  private reply(p: PendingReply): void {
    const need = p.accepted >= 0 ? ACK_BYTES : MAX_ERROR_BYTES;
    let len = Atomics.load(this.ctl, H_OUT_LEN >> 2);
    if (len + need > this.outSize) {
      this.spill();
      len = 0;
    }
    len += p.accepted >= 0
      ? writeAck(this.outDv, len, p.reply, p.flags, p.seq, p.accepted)
      : writeError(this.outU8, this.outDv, len, p.reply, p.flags, p.seq, p.index, p.code, p.message);
    Atomics.store(this.ctl, H_OUT_LEN >> 2, len);
  }

  /** Copies the outbox out into the task result and empties it. */
  private spill(): void {
    const len = Atomics.load(this.ctl, H_OUT_LEN >> 2);
    if (len > 0) this.chunks.push(this.outU8.slice(0, len));
    Atomics.store(this.ctl, H_OUT_LEN >> 2, 0);
  }

  /** Metric names → ids from the active program's meta JSON (reloaded when the epoch moves). */
  private refreshMetrics(): void {
    const epoch = this.hdr.getInt32(H_ACTIVE_EPOCH, true);
    const active = this.hdr.getInt32(H_ACTIVE_PROG, true);
    if (active < 0 || epoch === this.epoch) return;
    this.epoch = epoch;
    const base = this.hdr.getInt32(active === 0 ? H_PROG_BASE0 : H_PROG_BASE1, true);
    const pdv = new DataView(this.buffer, base, 64);
    const off = pdv.getUint32(P_META_OFF, true);
    const len = pdv.getUint32(P_META_LEN, true);
    const meta = JSON.parse(decoder.decode(new Uint8Array(this.buffer, base + off, len).slice())) as { metrics: string[] };
    const map = new Map<string, number>();
    meta.metrics.forEach((m, i) => map.set(m, i));
    this.batch.metrics = map;
    this.metricTable.reset(meta.metrics);
  }

  private hdrU32(field: number): number {
    return this.low.getUint32(this.ring.at + field, true);
  }
  private ringU8(field: number): number {
    return this.low.getUint8(this.ring.at + field);
  }
  private ringF64(field: number): number {
    return this.low.getFloat64(this.ring.at + field, true);
  }
}
