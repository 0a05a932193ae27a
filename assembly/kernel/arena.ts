// Arena allocator: power-of-two size classes with free lists, bump allocation at the top,
// memory.grow when the top passes the end. Used only off the hot path (new device pages,
// attribute tables, program switches), so a class rounding of at most 2x is acceptable.
import { PAGE } from '../layout';
import { K_ARENA_TOP, K_FREE } from './private';

function sizeClass(size: u32): u32 {
  if (size <= 16) return 4;
  return 32 - clz<u32>(size - 1);
}

export function classBytes(size: u32): u32 {
  return (<u32>1) << sizeClass(size);
}

/** Zeroed block of at least `size` bytes, 64-aligned from 64 bytes up (16 below). Traps when memory cannot grow. */
export function arenaAlloc(size: u32): usize {
  const c = sizeClass(size);
  const bytes: u64 = (<u64>1) << c;
  const head = K_FREE + (<usize>c << 2);
  const p = <usize>load<u32>(head);
  if (p != 0) {
    store<u32>(head, load<u32>(p));
    memory.fill(p, 0, <usize>bytes);
    return p;
  }
  // blocks of a cache line or more start on one (device pages: touch.ts); smaller ones on 16
  const align: u64 = bytes >= 64 ? 63 : 15;
  const top: u64 = (<u64>load<u32>(K_ARENA_TOP) + align) & ~align;
  const end: u64 = top + bytes;
  if (end > 0xffff0000) unreachable();
  const have: u64 = <u64>memory.size() * PAGE;
  if (end > have) {
    const pages = <i32>((end - have + PAGE - 1) / PAGE);
    if (memory.grow(pages) < 0) unreachable();
  }
  store<u32>(K_ARENA_TOP, <u32>end);
  // Fresh memory from grow is zero, but bytes below the old top may have been used before
  // a reset; zeroing keeps the contract simple.
  memory.fill(<usize>top, 0, <usize>bytes);
  return <usize>top;
}

export function arenaFree(p: usize, size: u32): void {
  if (p == 0) return;
  const head = K_FREE + (<usize>sizeClass(size) << 2);
  store<u32>(p, load<u32>(head));
  store<u32>(head, <u32>p);
}
