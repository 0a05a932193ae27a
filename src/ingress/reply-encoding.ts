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
