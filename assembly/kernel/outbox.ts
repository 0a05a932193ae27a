// Outbox access for the rule VM; transition records are counted in H_TRANSITIONS as they are reserved.
import { HEADER_BASE, H_OUT_BASE, H_OUT_SIZE, H_OUT_LEN, H_TRANSITIONS } from '../layout';

/** Reserves `bytes` at the end of the outbox; 0 when they do not fit. */
export function reserveOutbox(bytes: i32): usize {
  const len = load<i32>(HEADER_BASE + H_OUT_LEN);
  if (bytes < 0 || bytes > load<i32>(HEADER_BASE + H_OUT_SIZE) - len) return 0;
  store<i32>(HEADER_BASE + H_OUT_LEN, len + bytes);
  return <usize>load<u32>(HEADER_BASE + H_OUT_BASE) + <usize>len;
}

/** Reserves a transition record of `bytes` (reserveOutbox) and counts it in H_TRANSITIONS. */
export function reserveTransition(bytes: i32): usize {
  const rec = reserveOutbox(bytes);
  if (rec != 0) store<f64>(HEADER_BASE + H_TRANSITIONS, load<f64>(HEADER_BASE + H_TRANSITIONS) + 1);
  return rec;
}
