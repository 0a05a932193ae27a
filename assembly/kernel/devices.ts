// Device table: slot → device block. Blocks live in pages of `perPage` devices so the table
// grows without moving existing devices; a directory of page pointers maps slot / perPage.
import {
  HEADER_BASE, H_DEVICES, D_FLAGS, D_ATTR_PTR, D_ATTR_N, D_ATTR_CAP, DF_EXISTS,
  ATTR_ENTRY_BYTES, AE_ID, AE_KIND, AE_VALUE, ATTR_NUMBER,
} from '../layout';
import { arenaAlloc, arenaFree, classBytes } from './arena';
import { K_DIR, K_DIR_CAP, K_PER_PAGE, K_STRIDE, K_SLOT_LIMIT, K_PAGE_BYTES, K_PAGE_MAGIC, MAX_SLOTS } from './private';

/** Page geometry for a device stride: pages of at least 64 KiB, power-of-two sized. */
export function pageBytesFor(stride: u32): u32 {
  const b = classBytes(stride);
  return b < 65536 ? 65536 : b;
}

/** slot / perPage without a division: exact for slot < 2^24 and perPage < 2^16 (docs/kernel.md). */
@inline
export function pageOf(slot: u32): u32 {
  return <u32>((<u64>(slot & (MAX_SLOTS - 1)) * load<u64>(K_PAGE_MAGIC)) >> 40);
}

/**
 * Device block of `slot` in a device table whose geometry the caller holds in locals (the
 * apply loop and touch.ts reload it only when the table grows), 0 when it has none.
 */
@inline
export function blockIn(slot: u32, dir: usize, dirCap: u32, perPage: u32, magic: u64, stride: usize): usize {
  if (slot >= MAX_SLOTS) return 0;
  const page = <u32>((<u64>slot * magic) >> 40);
  if (page >= dirCap) return 0;
  const p = <usize>load<u32>(dir + (<usize>page << 2));
  if (p == 0) return 0;
  return p + <usize>(slot - page * perPage) * stride;
}

/** Device block of `slot`, 0 when it has none. */
@inline
export function deviceAt(slot: u32): usize {
  return blockIn(slot, <usize>load<u32>(K_DIR), load<u32>(K_DIR_CAP), load<u32>(K_PER_PAGE), load<u64>(K_PAGE_MAGIC), <usize>load<u32>(K_STRIDE));
}

function growDirectory(minEntries: u32): void {
  const cap = load<u32>(K_DIR_CAP);
  let n: u32 = cap < 64 ? 64 : cap;
  while (n < minEntries) n <<= 1;
  const old = <usize>load<u32>(K_DIR);
  const dir = arenaAlloc(n << 2);
  if (old != 0) {
    memory.copy(dir, old, <usize>cap << 2);
    arenaFree(old, cap << 2);
  }
  store<u32>(K_DIR, <u32>dir);
  store<u32>(K_DIR_CAP, n);
}

/** Device block of `slot`, creating its page on demand; 0 for a slot beyond MAX_SLOTS. */
export function deviceFor(slot: u32): usize {
  const d = deviceAt(slot);
  if (d != 0) return d;
  if (slot >= MAX_SLOTS) return 0;
  const page = pageOf(slot);
  if (page >= load<u32>(K_DIR_CAP)) growDirectory(page + 1);
  const entry = <usize>load<u32>(K_DIR) + (<usize>page << 2);
  store<u32>(entry, <u32>arenaAlloc(load<u32>(K_PAGE_BYTES)));
  return deviceAt(slot);
}

/** Marks a device block as existing (counts it once). */
export function touchDevice(slot: u32, d: usize): void {
  const flags = load<u32>(d + D_FLAGS);
  if ((flags & DF_EXISTS) == 0) {
    store<u32>(d + D_FLAGS, flags | DF_EXISTS);
    store<f64>(HEADER_BASE + H_DEVICES, load<f64>(HEADER_BASE + H_DEVICES) + 1);
    if (slot >= load<u32>(K_SLOT_LIMIT)) store<u32>(K_SLOT_LIMIT, slot + 1);
  }
}

export function freeAttrs(d: usize): void {
  arenaFree(<usize>load<u32>(d + D_ATTR_PTR), load<u32>(d + D_ATTR_CAP) * ATTR_ENTRY_BYTES);
  store<u32>(d + D_ATTR_PTR, 0);
  store<u32>(d + D_ATTR_N, 0);
  store<u32>(d + D_ATTR_CAP, 0);
}

export function setDeviceAttrs(d: usize, ptr: usize, n: u32): void {
  if (n > load<u32>(d + D_ATTR_CAP)) {
    freeAttrs(d);
    const cap = classBytes(n * ATTR_ENTRY_BYTES) / ATTR_ENTRY_BYTES;
    store<u32>(d + D_ATTR_PTR, <u32>arenaAlloc(cap * ATTR_ENTRY_BYTES));
    store<u32>(d + D_ATTR_CAP, cap);
  }
  if (n > 0) memory.copy(<usize>load<u32>(d + D_ATTR_PTR), ptr, <usize>n * ATTR_ENTRY_BYTES);
  store<u32>(d + D_ATTR_N, n);
}

/** Attribute entry of device block `d` (0: none), 0 when absent. */
@inline
function findAttrIn(d: usize, attr: u32): usize {
  if (d == 0) return 0;
  let e = <usize>load<u32>(d + D_ATTR_PTR);
  const end = e + <usize>load<u32>(d + D_ATTR_N) * ATTR_ENTRY_BYTES;
  for (; e < end; e += ATTR_ENTRY_BYTES) {
    if (load<u32>(e + AE_ID) == attr) return e;
  }
  return 0;
}

export function attrValueIn(d: usize, attr: u32): f64 {
  const e = findAttrIn(d, attr);
  if (e == 0 || load<u32>(e + AE_KIND) != ATTR_NUMBER) return NaN;
  return load<f64>(e + AE_VALUE);
}

export function attrMatchesIn(d: usize, attr: u32, kind: u32, value: f64): bool {
  const e = findAttrIn(d, attr);
  if (e == 0) return false;
  return load<u32>(e + AE_KIND) == kind && load<f64>(e + AE_VALUE) == value;
}
