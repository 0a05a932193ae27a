// Reading the active program's feature plan (layout in assembly/layout.ts, PL_*/PG_*/PF_*).
import { PL_GROUPS_OFF, PL_FEATURES_OFF, PL_METRICS_OFF, PL_SCALARS_OFF, PG_BYTES, PF_BYTES, PM_BYTES } from '../layout';

@inline export function planGroup(plan: usize, i: u32): usize {
  return plan + <usize>load<u32>(plan + PL_GROUPS_OFF) + <usize>i * PG_BYTES;
}
@inline export function planFeature(plan: usize, i: u32): usize {
  return plan + <usize>load<u32>(plan + PL_FEATURES_OFF) + <usize>i * PF_BYTES;
}
@inline export function planMetric(plan: usize, m: u32): usize {
  return plan + <usize>load<u32>(plan + PL_METRICS_OFF) + <usize>m * PM_BYTES;
}
@inline export function planScalar(plan: usize, i: u32): u32 {
  return load<u32>(plan + <usize>load<u32>(plan + PL_SCALARS_OFF) + (<usize>i << 2));
}
