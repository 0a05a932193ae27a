// Kernel state across a clean restart: on stop every shard's state segments (header, active
// program slot, arena up to its top) go to `data.dir/checkpoint/shard-N.bin`, and one
// manifest says what they mean (slot map, name tables, the active rules and their epoch).
// A checkpoint is read at most once: start removes it whether or not it could use it, so a
// crash later never brings back stale state. Files are written to a temp name and renamed;
// the manifest goes last, so a stop interrupted half-way leaves no manifest.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LAYOUT_VERSION } from '../../assembly/layout.js';
import { kernelWasmPath } from '../kernel/kernel.js';
import { restoreSegments, stateSegments, type MemorySegment, type ShardLayout } from '../kernel/memory.js';
import type { ActiveRules } from '../rules/rule-manager.js';

export const CHECKPOINT_FORMAT = 1;

export interface CheckpointState {
  /** Epoch of the program every shard runs. */
  epoch: number;
  rules: ActiveRules;
  tables: { metrics: string[]; attrs: string[]; strings: string[] };
  /** Device ids by shard and slot. */
  devices: string[][];
}

interface ShardFile {
  file: string;
  bytes: number;
  sha256: string;
  segments: MemorySegment[];
}

interface Manifest extends CheckpointState {
  format: number;
  layoutVersion: number;
  shards: number;
  wasmSha256: string;
  layouts: ShardLayout[];
  files: ShardFile[];
  writtenAt: string;
}

export function checkpointDir(dataDir: string): string {
  return join(dataDir, 'checkpoint');
}

const MANIFEST = 'manifest.json';
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function kernelWasmHash(): string {
  return sha256(readFileSync(kernelWasmPath()));
}

function writeDurably(path: string, chunks: Uint8Array[]): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.length) off += writeSync(fd, c, off, c.length - off);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Writes the checkpoint of stopped shards (no task may run on them). Throws on I/O errors. */
export function writeCheckpoint(dataDir: string, memories: WebAssembly.Memory[], layouts: ShardLayout[], state: CheckpointState): void {
  const dir = checkpointDir(dataDir);
  mkdirSync(dir, { recursive: true });
  rmSync(join(dir, MANIFEST), { force: true });
  const files: ShardFile[] = memories.map((memory, s) => {
    const segments = stateSegments(memory);
    // Copies out of the shared buffer: fs and hashing want plain memory.
    const chunks = segments.map(([at, len]) => new Uint8Array(memory.buffer, at, len).slice());
    const hash = createHash('sha256');
    for (const c of chunks) hash.update(c);
    const file = `shard-${s}.bin`;
    writeDurably(join(dir, file), chunks);
    return { file, bytes: chunks.reduce((n, c) => n + c.length, 0), sha256: hash.digest('hex'), segments };
  });
  const manifest: Manifest = {
    format: CHECKPOINT_FORMAT, layoutVersion: LAYOUT_VERSION, shards: memories.length, wasmSha256: kernelWasmHash(),
    layouts, files, writtenAt: new Date().toISOString(), ...state,
  };
  writeDurably(join(dir, MANIFEST), [Buffer.from(JSON.stringify(manifest))]);
}

/** Removes any checkpoint (after it was restored or found unusable). */
export function removeCheckpoint(dataDir: string): void {
  rmSync(checkpointDir(dataDir), { recursive: true, force: true });
}

export interface RestoreExpect {
  layouts: ShardLayout[];
  /** Memory maximum in pages of the new shards. */
  maximumPages: number;
}

export type RestoreOutcome =
  | { kind: 'none' }
  | { kind: 'rejected'; reason: string }
  | { kind: 'restored'; state: CheckpointState; apply(memories: WebAssembly.Memory[]): void };

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Reads and checks the whole checkpoint before anything is touched: `apply` then only copies
 * bytes. The checkpoint is removed in every case, so it is restored at most once.
 */
export function readCheckpoint(dataDir: string, expect: RestoreExpect): RestoreOutcome {
  const dir = checkpointDir(dataDir);
  if (!existsSync(join(dir, MANIFEST))) {
    if (existsSync(dir)) removeCheckpoint(dataDir); // leftovers of an interrupted stop
    return { kind: 'none' };
  }
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
    const reason = mismatch(m, expect);
    if (reason !== null) return { kind: 'rejected', reason };
    const blobs = m.files.map((f, s) => {
      const b = readFileSync(join(dir, f.file));
      if (b.length !== f.bytes || sha256(b) !== f.sha256) throw new Error(`${f.file} is damaged (size or hash differs)`);
      let total = 0;
      for (const [at, len] of f.segments) {
        if (!Number.isInteger(at) || !Number.isInteger(len) || at < 0 || len < 0) throw new Error(`${f.file}: bad segment`);
        if ((at + len) / 65536 > expect.maximumPages) throw new Error(`shard ${s} needs more memory than its maximum`);
        total += len;
      }
      if (total !== b.length) throw new Error(`${f.file}: segments do not cover the file`);
      return b;
    });
    const state: CheckpointState = { epoch: m.epoch, rules: m.rules, tables: m.tables, devices: m.devices };
    return {
      kind: 'restored',
      state,
      apply: (memories) => memories.forEach((mem, s) => restoreSegments(mem, m.files[s].segments, blobs[s])),
    };
  } catch (e) {
    return { kind: 'rejected', reason: `cannot read it: ${(e as Error).message}` };
  } finally {
    removeCheckpoint(dataDir);
  }
}

function mismatch(m: Manifest, expect: RestoreExpect): string | null {
  if (m?.format !== CHECKPOINT_FORMAT) return `format ${String(m?.format)}, this engine reads ${CHECKPOINT_FORMAT}`;
  if (m.layoutVersion !== LAYOUT_VERSION) return `layout version ${m.layoutVersion}, this engine has ${LAYOUT_VERSION}`;
  if (m.shards !== expect.layouts.length) return `written with ${m.shards} shards, engine.shards is ${expect.layouts.length}`;
  if (m.wasmSha256 !== kernelWasmHash()) return 'written by a different kernel binary (build/damper.wasm changed)';
  if (!same(m.layouts, expect.layouts)) return 'shard memory sizes differ (e.g. limits.maxFrameBytes changed)';
  if (!Array.isArray(m.files) || m.files.length !== m.shards || !Array.isArray(m.devices) || m.devices.length !== m.shards) return 'manifest is incomplete';
  if (!Number.isInteger(m.epoch) || m.epoch < 1 || typeof m.rules?.yaml !== 'string' || m.rules.spec?.version !== m.rules.version) return 'manifest has no valid program';
  return null;
}
