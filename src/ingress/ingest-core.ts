// What ingress does with a frame once it has one: device frames go to their shard's ring
// as raw bytes; gateway frames (and HTTP bodies naming devices with `d`) are decoded here
// only to be re-routed per shard. Answers come back through reply targets (see
// src/shard/reply-targets.ts); this class never waits on anything.
import { Unpackr } from 'msgpackr';
import { NO_SLOT, RK_BARRIER, RK_ROUTED } from '../../assembly/layout.js';
import type { EngineMetrics } from '../ops/metrics.js';
import type { DrainScheduler } from '../shard/drain-scheduler.js';
import { FrameWalker, type EventSink } from '../shard/frame-walker.js';
import { Ticket, type ReplyTargets } from '../shard/reply-targets.js';
import type { ShardSet } from '../shard/shard-set.js';
import { WIRE_CODES, WC_UNKNOWN_DEVICE } from '../shard/wire-errors.js';
import { RoutedEncoder } from './routed-encoder.js';

/** Outcome of a frame, for the connection to answer. */
export type FrameReply =
  | { ok: true; seq: number; accepted: number }
  | { ok: false; code: string; message: string; seq: number; index: number };

export type ReplyMode = 0 | 1 | 2;
export const REPLY_WHEN_ACKED: ReplyMode = 0;
export const REPLY_APPLIED: ReplyMode = 1;
export const REPLY_QUEUED: ReplyMode = 2;

export interface IngestDeps {
  shards: ShardSet;
  scheduler: DrainScheduler;
  replies: ReplyTargets;
  metrics: EngineMetrics;
  /** Whether events may name devices the registry does not know (auth.devices: open). */
  isKnownDevice(id: string): boolean;
  /**
   * A device connects or first appears: register it (open mode; again after a DELETE) and,
   * when its slot is new, push its attributes to the kernel.
   */
  deviceAttached(id: string, shard: number, slot: number, isNew: boolean): void;
}

const unpackr = new Unpackr({ mapsAsObjects: true, int64AsType: 'number', useRecords: false });
const textDecoder = new TextDecoder();

export function decodeFrame(bytes: Uint8Array, text: boolean): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: text ? JSON.parse(textDecoder.decode(bytes)) : unpackr.unpack(bytes) };
  } catch {
    return { ok: false };
  }
}

export class IngestCore implements EventSink {
  /** Set when the engine drains: every new frame is answered `overloaded`. */
  draining = false;
  private readonly walker = new FrameWalker();
  private readonly encoders: RoutedEncoder[];
  private readonly touched: number[] = [];
  private unknown = false;
  private unknownIndex = -1;
  private unknownId = '';

  constructor(private readonly deps: IngestDeps) {
    this.encoders = deps.shards.memories.map(() => new RoutedEncoder());
  }

  /** Slot of a device (assigned and announced on first sight). */
  attach(id: string): { shard: number; slot: number } {
    const shards = this.deps.shards;
    const shard = shards.shardOf(id);
    const { slot, isNew } = shards.assign(id);
    this.deps.deviceAttached(id, shard, slot, isNew);
    return { shard, slot };
  }

  /** Raw frame of a device connection; false when the shard is overloaded (nothing written). */
  deviceFrame(shard: number, slot: number, kind: number, flags: number, reply: number, received: number, bytes: Uint8Array): boolean {
    const shards = this.deps.shards;
    this.deps.scheduler.poll();
    if (this.draining || !shards.canTake(shard, bytes.byteLength)) return false;
    shards.writeFrame(shard, kind, flags, reply, slot, received, bytes);
    this.deps.scheduler.kick(shard);
    return true;
  }

  /**
   * A decoded frame whose events carry `d`. `dirty` marks shards this connection sent
   * unacknowledged events to since its last ack: an ack must wait for them too (acks mean
   * every earlier frame of the connection is applied). `reply` is called exactly once,
   * now or when every shard involved has applied its part, unless the frame needs no
   * answer (an accepted unacknowledged frame without `forceReply`): then it returns false.
   * `mode`: REPLY_WHEN_ACKED (WebSocket: `{seq, events}` frames wait for the kernel),
   * REPLY_APPLIED (always, once applied), REPLY_QUEUED (always, at once, when validated
   * and queued: HTTP 202, which uWS needs synchronous for pipelined requests).
   */
  gatewayFrame(value: unknown, received: number, flags: number, mode: ReplyMode, dirty: Uint8Array | null, reply: (r: FrameReply) => void): boolean {
    const forceReply = mode === REPLY_APPLIED;
    this.deps.scheduler.poll();
    const w = this.walker;
    const n = w.walk(value, true, received, null);
    if (this.draining) {
      reply({ ok: false, code: 'overloaded', message: 'the engine is shutting down', seq: w.seq, index: -1 });
      return true;
    }
    if (n < 0) {
      reply({ ok: false, code: WIRE_CODES[w.code], message: w.message, seq: w.seq, index: w.index });
      return true;
    }
    const touched = this.touched;
    touched.length = 0;
    this.unknown = false;
    for (const e of this.encoders) e.reset();
    w.walk(value, true, received, this);
    if (this.unknown) {
      reply({ ok: false, code: WIRE_CODES[WC_UNKNOWN_DEVICE], message: `unknown device ${this.unknownId}`, seq: w.seq, index: this.unknownIndex });
      return true;
    }
    const shards = this.deps.shards;
    const needReply = mode !== REPLY_QUEUED && (w.acked || forceReply);
    // Every part must fit before any is written: a frame is applied whole or not at all.
    for (let s = 0; s < shards.count; s++) {
      const part = this.encoders[s].count > 0;
      const barrier = needReply && !part && dirty !== null && dirty[s] === 1;
      if ((part || barrier) && !shards.canTake(s, part ? this.encoders[s].bytes().byteLength : 0)) {
        reply({ ok: false, code: 'overloaded', message: `shard ${s} is saturated, retry later`, seq: w.seq, index: -1 });
        return true;
      }
    }
    const seq = w.seq;
    let replyId = 0;
    let parts = 0;
    if (needReply) {
      for (let s = 0; s < shards.count; s++) if (this.encoders[s].count > 0 || (dirty !== null && dirty[s] === 1)) parts++;
      if (parts === 0) {
        this.deps.metrics.eventsIn(n);
        reply({ ok: true, seq, accepted: n });
        return true;
      }
      const replies = this.deps.replies;
      const ticket = new Ticket(parts, (accepted, failed) => {
        replies.remove(ticket.id);
        if (failed === null) reply({ ok: true, seq, accepted });
        else reply({ ok: false, code: failed.code, message: failed.message, seq, index: -1 });
      });
      ticket.id = replyId = replies.add(ticket);
    }
    for (let s = 0; s < shards.count; s++) {
      const enc = this.encoders[s];
      if (enc.count > 0) {
        shards.writeFrame(s, RK_ROUTED, flags, replyId, NO_SLOT, received, enc.bytes());
        if (dirty !== null) dirty[s] = needReply ? 0 : 1;
      } else if (needReply && dirty !== null && dirty[s] === 1) {
        shards.writeFrame(s, RK_BARRIER, flags, replyId, NO_SLOT, received, new Uint8Array(0));
        dirty[s] = 0;
      } else continue;
      this.deps.scheduler.kick(s);
    }
    this.deps.metrics.eventsIn(n);
    if (mode === REPLY_QUEUED) {
      reply({ ok: true, seq, accepted: n });
      return true;
    }
    return needReply;
  }

  /** EventSink for the routing pass of gateway frames. */
  onEvent(device: string | null, metric: string, ts: number, value: number): void {
    if (device === null || this.unknown) return;
    const shards = this.deps.shards;
    if (!this.deps.isKnownDevice(device)) {
      this.unknown = true;
      this.unknownIndex = this.walker.itemIndex;
      this.unknownId = device;
      return;
    }
    let slot = shards.slotOf(device);
    if (slot === NO_SLOT) slot = this.attach(device).slot;
    this.encoders[shards.shardOf(device)].add(slot, ts, metric, value);
  }
}

