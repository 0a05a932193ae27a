// Outbox access for the rule VM, and transition counting for H_TRANSITIONS.
import { HEADER_BASE, H_OUT_BASE, H_OUT_SIZE, H_OUT_LEN, H_TRANSITIONS, O_KIND, O_LEN, OK_TRANSITION } from '../layout';

/** Reserves `bytes` at the end of the outbox; 0 when they do not fit. */
export function reserveOutbox(bytes: i32): usize {
  const len = load<i32>(HEADER_BASE + H_OUT_LEN);
  if (bytes < 0 || bytes > load<i32>(HEADER_BASE + H_OUT_SIZE) - len) return 0;
  store<i32>(HEADER_BASE + H_OUT_LEN, len + bytes);
  return <usize>load<u32>(HEADER_BASE + H_OUT_BASE) + <usize>len;
}

/** Counts transition records appended since offset `from`. */
export function countTransitions(from: i32): void {
  const len = load<i32>(HEADER_BASE + H_OUT_LEN);
  if (len == from) return;
  const base = <usize>load<u32>(HEADER_BASE + H_OUT_BASE);
  let n: f64 = 0;
  let off = from;
  while (off + 8 <= len) {
    const r = base + <usize>off;
    const rl = load<i32>(r + O_LEN);
    if (load<u16>(r + O_KIND) == OK_TRANSITION) n += 1;
    if (rl < 8) break;
    off += rl;
  }
  if (n > 0) store<f64>(HEADER_BASE + H_TRANSITIONS, load<f64>(HEADER_BASE + H_TRANSITIONS) + n);
}
