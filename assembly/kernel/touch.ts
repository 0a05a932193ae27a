// Touching ahead: applyEvents reads, for a chunk of events before it applies them, the first
// word of every cache line those events will need (the device block's hot prefix, each
// group's bucket record). Devices arrive at
// random, so each of those lines is a likely miss and a likely TLB miss (4 KiB pages); one
// event's work depends on its device header, so applied one by one the misses of
// consecutive events hardly overlap. Read together, a chunk's misses are in flight at once.
// WebAssembly has no prefetch instruction: these are plain loads, folded into a sink that is
// stored once per chunk so that no load is dead. They read only what the apply loop would
// read (same slot checks), write nothing else and never change a result.
import { BE_SLOT, BE_METRIC, BE_TS, BATCH_EVENT_BYTES, PM_BYTES, PM_FIRST_GROUP, PM_N_GROUPS, PG_BYTES, PG_NB, PG_INV_NB, PG_INV_BUCKET_MS, PG_REC_BYTES, PG_STATE_OFF, GROUP_HEADER_BYTES } from '../layout';
import { K_DIR, K_DIR_CAP, K_PER_PAGE, K_PAGE_MAGIC, K_STRIDE, K_TOUCH, K_HOT_LINES, K_SLOT_LIMIT } from './private';
import { blockIn } from './devices';

/** Events applyEvents touches at a time, one chunk ahead of the one it applies. */
export const TOUCH_CHUNK = 8;

/**
 * Device state (slot limit × stride) below which applyEvents does not touch ahead: such a
 * shard stays in the CPU caches, where the loads are only overhead (+12% per event at 1k
 * devices, A/B in one process); above, they win (−20% at 100k devices, −32% at 10k in
 * bench:rules' interleaved shards).
 */
export const TOUCH_MIN_BYTES: u64 = 4 << 20;

/** True when the active device table is large enough to touch ahead (applyEvents, per call). */
export function touching(): bool {
  return <u64>load<u32>(K_SLOT_LIMIT) * <u64>load<u32>(K_STRIDE) >= TOUCH_MIN_BYTES;
}

/** Touches the lines events [from, to) of the batch at `batch` will read. */
export function touchEvents(batch: usize, from: i32, to: i32, nMetrics: u32, metrics: usize, groups: usize): void {
  const dir = <usize>load<u32>(K_DIR);
  const dirCap = load<u32>(K_DIR_CAP);
  const perPage = load<u32>(K_PER_PAGE);
  const magic = load<u64>(K_PAGE_MAGIC);
  const stride = <usize>load<u32>(K_STRIDE);
  const hotEnd = <usize>load<u32>(K_HOT_LINES) << 6;
  let sink: u64 = 0;
  for (let i = from; i < to; i++) {
    const e = batch + <usize>i * BATCH_EVENT_BYTES;
    const d = blockIn(load<u32>(e + BE_SLOT), dir, dirCap, perPage, magic, stride);
    if (d == 0) continue;
    for (let o: usize = 0; o < hotEnd; o += 64) sink ^= load<u64>(d + o);
    const metric = load<u32>(e + BE_METRIC);
    if (metric >= nMetrics) continue;
    const m = metrics + <usize>metric * PM_BYTES;
    const n = load<u32>(m + PM_N_GROUPS);
    let g = groups + <usize>load<u32>(m + PM_FIRST_GROUP) * PG_BYTES;
    const ts = load<f64>(e + BE_TS);
    for (let j: u32 = 0; j < n; j++, g += PG_BYTES) {
      // the bucket's ring slot, as updateGroup computes it but without the exactness
      // corrections: a slot off by one only touches a neighbouring record
      const nb = <f64>load<u32>(g + PG_NB);
      const id = Math.floor(ts * load<f64>(g + PG_INV_BUCKET_MS));
      const r = id - Math.floor(id * load<f64>(g + PG_INV_NB)) * nb;
      if (!(r >= 0 && r < nb)) continue;
      sink ^= load<u64>(d + <usize>load<u32>(g + PG_STATE_OFF) + GROUP_HEADER_BYTES + <usize>(<u32>r) * <usize>load<u32>(g + PG_REC_BYTES));
    }
  }
  store<u64>(K_TOUCH, load<u64>(K_TOUCH) ^ sink);
}
