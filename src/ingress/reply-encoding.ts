// Ack, nack and error messages of SPEC §3.1, in the encoding the client used.
import { pack } from 'msgpackr';

export interface ErrorBody { code: string; message: string; seq?: number; index?: number }

export function ackMessage(seq: number, accepted: number): { ack: number; accepted: number } {
  return { ack: seq, accepted };
}

/** `{"nack": seq, "error": …}` for acknowledged batches, `{"error": …}` otherwise. */
export function errorMessage(code: string, message: string, seq: number, index: number): object {
  const error: ErrorBody = { code, message };
  if (seq === seq) error.seq = seq;
  if (index >= 0) error.index = index;
  if (seq === seq) return { nack: seq, error };
  return { error };
}

export function encodeReply(msg: object, text: boolean): string | Uint8Array {
  return text ? JSON.stringify(msg) : pack(msg);
}

// `{"ack": seq, "accepted": n}` in msgpack, written by hand into one reused buffer (uWS
// copies what it sends): the reply to every acknowledged batch costs no allocation.
const ACK_BUF = new Uint8Array(32);
const ACK_DV = new DataView(ACK_BUF.buffer);
ACK_BUF.set([0x82, 0xa3, 0x61, 0x63, 0x6b], 0); // fixmap(2), "ack"
const ACCEPTED_KEY = [0xa8, 0x61, 0x63, 0x63, 0x65, 0x70, 0x74, 0x65, 0x64]; // "accepted"

export function encodeAckMsgpack(seq: number, accepted: number): Uint8Array {
  let p = 5;
  p = writeUint(seq, p);
  ACK_BUF.set(ACCEPTED_KEY, p);
  p = writeUint(accepted, p + ACCEPTED_KEY.length);
  return ACK_BUF.subarray(0, p);
}

function writeUint(n: number, p: number): number {
  if (n <= 0x7f) {
    ACK_BUF[p] = n;
    return p + 1;
  }
  if (n <= 0xffffffff) {
    ACK_BUF[p] = 0xce;
    ACK_DV.setUint32(p + 1, n);
    return p + 5;
  }
  ACK_BUF[p] = 0xcb; // seq above 2^32: float64 keeps every safe integer
  ACK_DV.setFloat64(p + 1, n);
  return p + 9;
}
