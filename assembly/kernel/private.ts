// Kernel-private header fields (absolute addresses). All kernel state lives in shard memory
// so that any worker's instance can continue where another left off.
import { HEADER_BASE, H_KERNEL_PRIVATE } from '../layout';

const K = HEADER_BASE + H_KERNEL_PRIVATE;
export const K_ARENA_TOP: usize = K + 0; //      u32  bump pointer of the arena
export const K_DIR: usize = K + 4; //            u32  device directory (u32 page pointers)
export const K_DIR_CAP: usize = K + 8; //        u32  directory entries
export const K_PER_PAGE: usize = K + 12; //      u32  devices per page
export const K_STRIDE: usize = K + 16; //        u32  bytes per device block
export const K_SLOT_LIMIT: usize = K + 20; //    u32  highest slot with state + 1
export const K_RULE_OFF: usize = K + 24; //      u32  rule state offset in the device block
export const K_RULE_BYTES: usize = K + 28; //    u32
export const K_LAYOUT_HASH: usize = K + 32; //   u32  layout hash of the active plan
export const K_PLAN: usize = K + 36; //          u32  absolute address of the active plan (0: none)
export const K_RULES: usize = K + 40; //         u32  absolute address of the active rules section (0: none)
export const K_MAX_OUT: usize = K + 44; //       u32  rulesMaxOutBytes of the active rules
export const K_PAGE_BYTES: usize = K + 48; //    u32  bytes per device page
export const K_CACHES_LIVE: usize = K + 52; //   u32  1 once a window cache was filled under the active program
export const K_PAGE_MAGIC: usize = K + 56; //    u64  ceil(2^40 / perPage): slot / perPage as a multiply and shift
export const K_FREE: usize = K + 64; //          u32[32] free lists of the arena by size class
export const K_TOUCH: usize = K + 192; //        u64  sink of the loads of touch.ts (so that none is dead)
export const K_HOT_LINES: usize = K + 200; //    u32  64-byte lines of the device block before the first ring (touched ahead)

// Slots beyond this are rejected: a bad slot must not make the kernel reserve gigabytes.
export const MAX_SLOTS: u32 = 1 << 24;
