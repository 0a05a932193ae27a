// Metric name bytes → global metric id without building strings: an open-addressing
// table keyed by FNV-1a of the UTF-8 bytes, rebuilt when the program (its meta) changes.
import { NO_METRIC } from '../../assembly/layout.js';

const encoder = new TextEncoder();

/** [A-Za-z0-9._:-] as a byte lookup table. */
const NAME_BYTE = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  NAME_BYTE[c] = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2e || c === 0x5f || c === 0x3a || c === 0x2d ? 1 : 0;
}

export class MetricTable {
  private mask = 0;
  private hashes = new Uint32Array(0);
  private ids = new Int32Array(0);
  private names: Uint8Array[] = [];

  constructor(metrics: readonly string[] = []) {
    this.reset(metrics);
  }

  reset(metrics: readonly string[]): void {
    let cap = 16;
    while (cap < metrics.length * 2) cap <<= 1;
    this.mask = cap - 1;
    this.hashes = new Uint32Array(cap);
    this.ids = new Int32Array(cap).fill(-1);
    this.names = metrics.map((m) => encoder.encode(m));
    this.names.forEach((bytes, id) => {
      const h = hashBytes(bytes, 0, bytes.length);
      let i = h & this.mask;
      while (this.ids[i] !== -1) i = (i + 1) & this.mask;
      this.hashes[i] = h;
      this.ids[i] = id;
    });
  }

  /**
   * Id of the metric whose name is `u8[start, start+len)`: NO_METRIC for a valid name no
   * rule reads, -1 for an invalid name (SPEC §1: 1..64 bytes of [A-Za-z0-9._:-]).
   */
  lookup(u8: Uint8Array, start: number, len: number): number {
    if (len < 1 || len > 64) return -1;
    let h = 0x811c9dc5;
    for (let i = start; i < start + len; i++) {
      const c = u8[i];
      if (NAME_BYTE[c] === 0) return -1;
      h = Math.imul(h ^ c, 0x01000193);
    }
    h >>>= 0;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const id = this.ids[i];
      if (id === -1) return NO_METRIC;
      if (this.hashes[i] === h && equalBytes(this.names[id], u8, start, len)) return id;
    }
  }
}

function hashBytes(b: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + len; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

function equalBytes(name: Uint8Array, u8: Uint8Array, start: number, len: number): boolean {
  if (name.length !== len) return false;
  for (let i = 0; i < len; i++) if (name[i] !== u8[start + i]) return false;
  return true;
}
