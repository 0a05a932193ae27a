// Ack and error records the worker appends to a shard's outbox after the kernel's
// transition records (docs/internals.md "Outbox"). Layout, after the 8-byte O_* header:
//   OK_ACK   (32 bytes): u32 reply @8, u32 flags @12, f64 seq @16 (NaN: none), u32 accepted @24
//   OK_ERROR (40 + msg): u32 reply @8, u32 flags @12, f64 seq @16, i32 index @24 (-1: none),
//                        u32 code @28 (WC_*), u32 msgLen @32, UTF-8 message @40, padded to 8
import { O_KIND, O_LEN, OK_ACK, OK_ERROR } from '../../assembly/layout.js';

export const OA_REPLY = 8;
export const OA_FLAGS = 12;
export const OA_SEQ = 16;
export const OA_ACCEPTED = 24;
export const ACK_BYTES = 32;
export const OE_INDEX = 24;
export const OE_CODE = 28;
export const OE_MSG_LEN = 32;
export const OE_MSG = 40;
export const MAX_ERROR_MESSAGE = 200;

const encoder = new TextEncoder();

export function errorBytes(messageLen: number): number {
  return OE_MSG + ((messageLen + 7) & ~7);
}

export function writeAck(dv: DataView, at: number, reply: number, flags: number, seq: number, accepted: number): number {
  dv.setUint16(at + O_KIND, OK_ACK, true);
  dv.setUint32(at + O_LEN, ACK_BYTES, true);
  dv.setUint32(at + OA_REPLY, reply, true);
  dv.setUint32(at + OA_FLAGS, flags, true);
  dv.setFloat64(at + OA_SEQ, seq, true);
  dv.setUint32(at + OA_ACCEPTED, accepted, true);
  dv.setUint32(at + 28, 0, true);
  return ACK_BYTES;
}

/** `message` must be ASCII of at most MAX_ERROR_MESSAGE chars (ours always are). */
export function writeError(u8: Uint8Array, dv: DataView, at: number, reply: number, flags: number, seq: number, index: number, code: number, message: string): number {
  const msg = message.length > MAX_ERROR_MESSAGE ? message.slice(0, MAX_ERROR_MESSAGE) : message;
  const n = encoder.encodeInto(msg, u8.subarray(at + OE_MSG, at + OE_MSG + MAX_ERROR_MESSAGE * 3)).written;
  const total = errorBytes(n);
  dv.setUint16(at + O_KIND, OK_ERROR, true);
  dv.setUint32(at + O_LEN, total, true);
  dv.setUint32(at + OA_REPLY, reply, true);
  dv.setUint32(at + OA_FLAGS, flags, true);
  dv.setFloat64(at + OA_SEQ, seq, true);
  dv.setInt32(at + OE_INDEX, index, true);
  dv.setUint32(at + OE_CODE, code, true);
  dv.setUint32(at + OE_MSG_LEN, n, true);
  return total;
}

/** Worst-case bytes of one error record. */
export const MAX_ERROR_BYTES = errorBytes(MAX_ERROR_MESSAGE * 3);
