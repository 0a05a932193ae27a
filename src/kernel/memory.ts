// Shard memory: one shared WebAssembly.Memory per shard with the header of
// assembly/layout.ts written and the regions laid out (docs/internals.md, docs/kernel.md).
import * as L from '../../assembly/layout.js';
import { DamperError } from '../errors.js';

/** The memory's pages are limited by the kernel module's declared maximum (asconfig.json). */
export const MODULE_MAX_PAGES = 65536;
/** The kernel module's declared minimum (asconfig.json `initialMemory`). */
export const MODULE_MIN_PAGES = 64;

export interface ShardMemoryOptions {
  shardId: number;
  /** Ring bytes (multiple of 8). */
  ringBytes: number;
  /** Batch capacity in events. */
  batchEvents: number;
  scratchBytes: number;
  outboxBytes: number;
  /** Bytes per program slot (two slots). */
  programBytes: number;
  /** Arena pages to reserve up front (the kernel grows memory beyond them on demand). */
  initialArenaPages: number;
  /** Memory maximum in pages, at most MODULE_MAX_PAGES. */
  maximumPages: number;
}

export const DEFAULT_SHARD_MEMORY_OPTIONS: Readonly<ShardMemoryOptions> = Object.freeze({
  shardId: 0,
  ringBytes: 8 * 1024 * 1024,
  batchEvents: 16384,
  scratchBytes: 64 * 1024,
  outboxBytes: 4 * 1024 * 1024,
  programBytes: 1024 * 1024,
  initialArenaPages: 16,
  maximumPages: MODULE_MAX_PAGES,
});

/** Absolute byte offsets and sizes of a shard's regions, as written into the header. */
export interface ShardLayout {
  shardId: number;
  ringBase: number;
  ringSize: number;
  batchBase: number;
  batchCap: number;
  scratchBase: number;
  scratchSize: number;
  outBase: number;
  outSize: number;
  progBase: [number, number];
  progSize: number;
  arenaBase: number;
}

export interface ShardMemory {
  memory: WebAssembly.Memory;
  layout: ShardLayout;
}

const ERR_MEMORY_OPTIONS = 'DAMPER_ERR_MEMORY_OPTIONS';
const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

function check(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new DamperError(ERR_MEMORY_OPTIONS, `shard memory option ${name} must be an integer >= ${min}, got ${v}`);
}

/** Lays the regions out after the header page; each region starts 64-byte aligned, the arena page-aligned. */
export function computeLayout(opts: ShardMemoryOptions): ShardLayout {
  check('ringBytes', opts.ringBytes, 4096);
  check('batchEvents', opts.batchEvents, 1);
  check('scratchBytes', opts.scratchBytes, 1024);
  check('outboxBytes', opts.outboxBytes, 4096);
  check('programBytes', opts.programBytes, 4096);
  check('initialArenaPages', opts.initialArenaPages, 1);
  check('maximumPages', opts.maximumPages, MODULE_MIN_PAGES);
  if (opts.maximumPages > MODULE_MAX_PAGES) throw new DamperError(ERR_MEMORY_OPTIONS, `maximumPages above ${MODULE_MAX_PAGES}`);
  let at = L.HEADER_BASE + L.PAGE;
  const take = (bytes: number): number => {
    const base = alignUp(at, 64);
    at = base + bytes;
    return base;
  };
  const ringSize = alignUp(opts.ringBytes, 8);
  const ringBase = take(ringSize);
  const batchBase = take(opts.batchEvents * L.BATCH_EVENT_BYTES);
  const scratchBase = take(opts.scratchBytes);
  const outSize = alignUp(opts.outboxBytes, 8);
  const outBase = take(outSize);
  const progSize = alignUp(opts.programBytes, 8);
  const prog0 = take(progSize);
  const prog1 = take(progSize);
  const arenaBase = alignUp(at, L.PAGE);
  return {
    shardId: opts.shardId, ringBase, ringSize, batchBase, batchCap: opts.batchEvents, scratchBase,
    scratchSize: opts.scratchBytes, outBase, outSize, progBase: [prog0, prog1], progSize, arenaBase,
  };
}

/** Creates a shard's shared memory with the header written; the kernel's init() does the rest. */
export function createShardMemory(options: Partial<ShardMemoryOptions> = {}): ShardMemory {
  const opts: ShardMemoryOptions = { ...DEFAULT_SHARD_MEMORY_OPTIONS, ...options };
  const layout = computeLayout(opts);
  const initial = Math.max(MODULE_MIN_PAGES, layout.arenaBase / L.PAGE + opts.initialArenaPages);
  if (initial > opts.maximumPages) throw new DamperError(ERR_MEMORY_OPTIONS, `regions need ${initial} pages, above maximumPages ${opts.maximumPages}`);
  const memory = new WebAssembly.Memory({ initial, maximum: opts.maximumPages, shared: true });
  writeHeader(memory, layout);
  return { memory, layout };
}

function writeHeader(memory: WebAssembly.Memory, l: ShardLayout): void {
  const h = new DataView(memory.buffer, L.HEADER_BASE, L.PAGE);
  const i32 = (off: number, v: number): void => h.setInt32(off, v, true);
  i32(L.H_LAYOUT_VERSION, L.LAYOUT_VERSION);
  i32(L.H_SHARD_ID, l.shardId);
  i32(L.H_RING_BASE, l.ringBase);
  i32(L.H_RING_SIZE, l.ringSize);
  i32(L.H_BATCH_BASE, l.batchBase);
  i32(L.H_BATCH_CAP, l.batchCap);
  i32(L.H_SCRATCH_BASE, l.scratchBase);
  i32(L.H_SCRATCH_SIZE, l.scratchSize);
  i32(L.H_OUT_BASE, l.outBase);
  i32(L.H_OUT_SIZE, l.outSize);
  i32(L.H_PROG_BASE0, l.progBase[0]);
  i32(L.H_PROG_BASE1, l.progBase[1]);
  i32(L.H_PROG_SIZE, l.progSize);
  i32(L.H_ACTIVE_PROG, -1);
  i32(L.H_ACTIVE_EPOCH, 0);
  i32(L.H_ARENA_BASE, l.arenaBase);
  // magic last: a reader that sees it sees a complete header
  Atomics.store(new Int32Array(memory.buffer, L.HEADER_BASE, 1), 0, L.LAYOUT_MAGIC);
}

/** Reads the layout back from a shard memory's header (e.g. in a worker). */
export function readLayout(memory: WebAssembly.Memory): ShardLayout {
  const h = new DataView(memory.buffer, L.HEADER_BASE, L.PAGE);
  const i32 = (off: number): number => h.getInt32(off, true);
  if (i32(L.H_MAGIC) !== L.LAYOUT_MAGIC) throw new DamperError(ERR_MEMORY_OPTIONS, 'memory has no shard header');
  return {
    shardId: i32(L.H_SHARD_ID), ringBase: i32(L.H_RING_BASE), ringSize: i32(L.H_RING_SIZE),
    batchBase: i32(L.H_BATCH_BASE), batchCap: i32(L.H_BATCH_CAP), scratchBase: i32(L.H_SCRATCH_BASE),
    scratchSize: i32(L.H_SCRATCH_SIZE), outBase: i32(L.H_OUT_BASE), outSize: i32(L.H_OUT_SIZE),
    progBase: [i32(L.H_PROG_BASE0), i32(L.H_PROG_BASE1)], progSize: i32(L.H_PROG_SIZE), arenaBase: i32(L.H_ARENA_BASE),
  };
}

/** A byte range of a shard memory: absolute offset and length. */
export type MemorySegment = [at: number, len: number];

/**
 * The parts of a shard memory that hold state across drains (a checkpoint): the header page
 * (public and kernel-private fields), the active program slot (the kernel's plan and rules
 * pointers are absolute addresses into it) and the arena up to the kernel's bump pointer.
 * Ring, batch, scratch and outbox are transient; memory above the arena top is unused.
 */
export function stateSegments(memory: WebAssembly.Memory): MemorySegment[] {
  const l = readLayout(memory);
  const h = new DataView(memory.buffer, L.HEADER_BASE, L.PAGE);
  const segs: MemorySegment[] = [[L.HEADER_BASE, L.PAGE]];
  const active = h.getInt32(L.H_ACTIVE_PROG, true);
  if (active === 0 || active === 1) segs.push([l.progBase[active], l.progSize]);
  // K_ARENA_TOP (assembly/kernel/private.ts) is the first kernel-private word; 0 before init().
  const top = h.getUint32(L.H_KERNEL_PRIVATE, true);
  if (h.getInt32(L.H_KERNEL_READY, true) === 1 && top > l.arenaBase) {
    if (top > memory.buffer.byteLength) throw new DamperError(ERR_MEMORY_OPTIONS, `arena top ${top} beyond the memory's ${memory.buffer.byteLength} bytes`);
    segs.push([l.arenaBase, top - l.arenaBase]);
  }
  return segs;
}

/**
 * Writes checkpointed segments back into a fresh shard memory of the same layout (growing it
 * to cover them) and empties its ring and outbox: the kernel continues where it stopped.
 */
export function restoreSegments(memory: WebAssembly.Memory, segments: readonly MemorySegment[], bytes: Uint8Array): void {
  let end = 0;
  for (const [at, len] of segments) end = Math.max(end, at + len);
  const have = memory.buffer.byteLength;
  if (end > have) memory.grow(Math.ceil((end - have) / L.PAGE));
  const mem = new Uint8Array(memory.buffer);
  let off = 0;
  for (const [at, len] of segments) {
    mem.set(bytes.subarray(off, off + len), at);
    off += len;
  }
  const h = new DataView(memory.buffer, L.HEADER_BASE, L.PAGE);
  h.setInt32(L.H_RING_WRITE, 0, true);
  h.setInt32(L.H_RING_READ, 0, true);
  h.setInt32(L.H_OUT_LEN, 0, true);
}
