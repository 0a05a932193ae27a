// Turns a finished drain task's outbox into effects on the main thread: transition
// records become action records (handed to the action service in one append per task, so
// seq follows kernel order), ack/error records go to their reply targets.
import {
  H_OUT_BASE, H_OUT_LEN, HEADER_BASE, O_KIND, O_LEN, OK_ACK, OK_ERROR, OK_TRANSITION,
  OT_EPOCH, OT_NVALUES, OT_RULE, OT_SLOT, OT_STATE, OT_TS, OT_VALUES, STATE_FIRED,
} from '../../assembly/layout.js';
import type { ActionRecordInput } from '../actions/types.js';
import { OA_ACCEPTED, OA_FLAGS, OA_REPLY, OA_SEQ, OE_CODE, OE_INDEX, OE_MSG, OE_MSG_LEN } from './outbox.js';
import type { ProgramBook } from './program-book.js';
import type { ReplyTargets } from './reply-targets.js';
import type { DrainResult } from './shard-drainer.js';
import type { ShardSet } from './shard-set.js';
import { RF_TEXT } from './ring-flags.js';
import { WIRE_CODES } from './wire-errors.js';

export interface DispatcherDeps {
  shards: ShardSet;
  programs: ProgramBook;
  replies: ReplyTargets;
  attrsOf(device: string): Record<string, string | number>;
  /** Receives every task's action inputs (in order); may be empty arrays never. */
  emit(inputs: ActionRecordInput[]): void;
}

const decoder = new TextDecoder();

export class Dispatcher {
  private inputs: ActionRecordInput[] = [];

  constructor(private readonly deps: DispatcherDeps) {}

  handle(shard: number, result: DrainResult): void {
    try {
      for (const chunk of result.chunks) this.records(shard, new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      const mem = this.deps.shards.memories[shard].buffer as unknown as SharedArrayBuffer;
      const hdr = new DataView(mem, HEADER_BASE, 1024);
      const len = Atomics.load(new Int32Array(mem, HEADER_BASE, 64), H_OUT_LEN >> 2);
      if (len > 0) this.records(shard, new DataView(mem, hdr.getInt32(H_OUT_BASE, true), len));
    } finally {
      // Targets that hold their sends for one corked write per connection send them now.
      this.deps.replies.flush();
    }
    if (this.inputs.length > 0) {
      const inputs = this.inputs;
      this.inputs = [];
      this.deps.emit(inputs);
    }
  }

  private records(shard: number, dv: DataView): void {
    let at = 0;
    while (at + 8 <= dv.byteLength) {
      const kind = dv.getUint16(at + O_KIND, true);
      const len = dv.getUint32(at + O_LEN, true);
      if (len < 8 || at + len > dv.byteLength) return; // corrupt tail: nothing sensible to read
      if (kind === OK_TRANSITION) this.transition(shard, dv, at);
      else if (kind === OK_ACK) this.ack(dv, at);
      else if (kind === OK_ERROR) this.error(dv, at);
      at += len;
    }
  }

  private transition(shard: number, dv: DataView, at: number): void {
    const entry = this.deps.programs.get(dv.getUint32(at + OT_EPOCH, true));
    const device = this.deps.shards.deviceId(shard, dv.getUint32(at + OT_SLOT, true));
    if (entry === undefined || device === undefined) return;
    const ruleIdx = dv.getUint32(at + OT_RULE, true);
    const rule = entry.spec.rules[ruleIdx];
    if (rule === undefined) return;
    const names = entry.readNames[ruleIdx];
    const n = dv.getUint32(at + OT_NVALUES, true);
    const values: Record<string, number> = {};
    for (let i = 0; i < n && i < names.length; i++) values[names[i]] = dv.getFloat64(at + OT_VALUES + 8 * i, true);
    this.inputs.push({
      ts: dv.getFloat64(at + OT_TS, true),
      rule: rule.id,
      version: entry.spec.version,
      device,
      state: dv.getUint32(at + OT_STATE, true) === STATE_FIRED ? 'fired' : 'cleared',
      values,
      actions: rule.actions,
      attrs: this.deps.attrsOf(device),
    });
  }

  private ack(dv: DataView, at: number): void {
    const target = this.deps.replies.get(dv.getUint32(at + OA_REPLY, true));
    if (target === undefined) return; // the connection closed meanwhile
    const text = (dv.getUint32(at + OA_FLAGS, true) & RF_TEXT) !== 0;
    target.ack(dv.getFloat64(at + OA_SEQ, true), dv.getUint32(at + OA_ACCEPTED, true), text);
  }

  private error(dv: DataView, at: number): void {
    const target = this.deps.replies.get(dv.getUint32(at + OA_REPLY, true));
    if (target === undefined) return;
    const text = (dv.getUint32(at + OA_FLAGS, true) & RF_TEXT) !== 0;
    const n = dv.getUint32(at + OE_MSG_LEN, true);
    const message = decoder.decode(new Uint8Array(dv.buffer, dv.byteOffset + at + OE_MSG, n).slice());
    const code = WIRE_CODES[dv.getUint32(at + OE_CODE, true)] ?? 'bad_frame';
    target.error(code, message, dv.getFloat64(at + OA_SEQ, true), dv.getInt32(at + OE_INDEX, true), text);
  }
}
