// Non-windowed features (last, ewma, age): one small state block per feature.
import { PF_FN, PF_STATE_OFF, PF_HALF_LIFE } from '../layout';
import { FN_LAST, FN_EWMA, FN_AGE } from './fns';

export function updateScalar(f: usize, d: usize, ts: f64, v: f64, nowMs: f64): void {
  const fn = load<u32>(f + PF_FN);
  const p = d + <usize>load<u32>(f + PF_STATE_OFF);
  if (fn == FN_LAST) {
    // greatest ts wins; ties: latest arrival
    if (load<u32>(p) == 0 || ts >= load<f64>(p + 8)) {
      store<u32>(p, 1);
      store<f64>(p + 8, ts);
      store<f64>(p + 16, v);
    }
  } else if (fn == FN_EWMA) {
    if (load<u32>(p) == 0) {
      store<u32>(p, 1);
      store<f64>(p + 8, v);
      store<f64>(p + 16, ts);
      return;
    }
    const top = load<f64>(p + 16);
    const dt = ts > top ? ts - top : 0;
    const s = load<f64>(p + 8);
    // 1 − 2^(−Δt/H) written as −expm1(−Δt·ln2/H): exact for small Δt, and no stdlib scratch globals
    store<f64>(p + 8, s - Math.expm1(-dt / load<f64>(f + PF_HALF_LIFE) * Math.LN2) * (v - s));
    if (ts > top) store<f64>(p + 16, ts);
  } else if (fn == FN_AGE) {
    store<u32>(p, 1);
    store<f64>(p + 8, nowMs);
  }
}

export function scalarValue(f: usize, d: usize, nowMs: f64): f64 {
  const fn = load<u32>(f + PF_FN);
  const p = d + <usize>load<u32>(f + PF_STATE_OFF);
  const has = d != 0 && load<u32>(p) != 0;
  if (fn == FN_LAST) return has ? load<f64>(p + 16) : NaN;
  if (fn == FN_EWMA) return has ? load<f64>(p + 8) : NaN;
  if (fn == FN_AGE) return has ? (nowMs - load<f64>(p + 8)) / 1000 : Infinity;
  return NaN;
}
