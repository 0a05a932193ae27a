import { describe, expect, it } from 'vitest';
import * as L from '../assembly/layout.js';

// The layout is shared by two compilers; a field that overlaps another corrupts both sides.
describe('shard memory layout', () => {
  it('header fields are aligned, inside the public header and do not overlap', () => {
    const fields: Array<[string, number, number]> = Object.entries(L)
      .filter(([k]) => k.startsWith('H_') && k !== 'H_KERNEL_PRIVATE')
      .map(([k, v]) => [k, v as number, ['H_EVENTS_APPLIED', 'H_LATE_EVENTS', 'H_TRANSITIONS', 'H_DEVICES'].includes(k) ? 8 : 4]);
    fields.sort((a, b) => a[1] - b[1]);
    for (let i = 0; i < fields.length; i++) {
      const [name, off, size] = fields[i];
      expect(off % size, name).toBe(0);
      expect(off + size, name).toBeLessThanOrEqual(L.H_KERNEL_PRIVATE);
      if (i > 0) expect(off, `${name} overlaps ${fields[i - 1][0]}`).toBeGreaterThanOrEqual(fields[i - 1][1] + fields[i - 1][2]);
    }
  });

  it('record headers keep 8-byte alignment for their f64 fields', () => {
    expect(L.RING_HEADER_BYTES % 8).toBe(0);
    expect(L.R_RECEIVED % 8).toBe(0);
    expect(L.BATCH_EVENT_BYTES % 8).toBe(0);
    expect(L.BE_TS % 8).toBe(0);
    expect(L.OT_TS % 8).toBe(0);
    expect(L.OT_VALUES % 8).toBe(0);
    expect(L.AE_VALUE % 8).toBe(0);
    expect(L.HEADER_BASE % L.PAGE).toBe(0);
  });
});
