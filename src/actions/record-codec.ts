// One record, two wire forms. The msgpack form is what the log stores, so msgpack
// subscribers and catch-up reads send stored bytes as they are; JSON is derived on demand.
import { Packr } from 'msgpackr';
import type { ActionRecord, ActionRecordInput } from './types.js';

// Plain msgpack maps (no msgpackr record extension) so any msgpack client can decode.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

/** The public shape of a record: fixed key order, `receivedAt` left out. */
export function publicRecord(seq: number, time: string, input: ActionRecordInput): ActionRecord {
  const rec: ActionRecord = {
    seq,
    time,
    ts: input.ts,
    rule: input.rule,
    version: input.version,
    device: input.device,
    state: input.state,
    values: input.values,
    actions: input.actions,
    attrs: input.attrs,
  };
  if (input.action !== undefined) rec.action = input.action;
  if (input.ref !== undefined) rec.ref = input.ref;
  return rec;
}

export function encodeRecord(rec: ActionRecord): Buffer {
  return packr.pack(rec);
}

export function decodeRecord(bytes: Uint8Array): ActionRecord {
  return packr.unpack(bytes) as ActionRecord;
}

/** JSON text of a record; NaN and ±Inf become null, as SPEC §4.1 asks. */
export function recordJson(rec: ActionRecord): string {
  return JSON.stringify(rec);
}

/** Encodes any other frame (errors, HTTP pages) for a msgpack client. */
export function encodeFrame(value: unknown): Buffer {
  return packr.pack(value);
}

export function decodeFrame(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
