// The feature kernel's side of the rule seam: outbox guard (applyBatch stops early and
// resumes), transition counting, rule state per device, ticks.
import { describe, expect, it } from 'vitest';
import * as L from '../assembly/layout.js';
import { createShardMemory } from '../src/kernel/memory.js';
import { instantiateKernel, readCounters } from '../src/kernel/kernel.js';
import { encodeProgram, writeProgram } from '../src/kernel/program.js';
import { FeatureFn, type ProgramSpec } from '../src/kernel/program-spec.js';

const T = 1_763_800_000_000;

function ruleSpec(): ProgramSpec {
  return {
    version: 1, metrics: ['a'], attrs: [], strings: [],
    features: [
      { fn: FeatureFn.Last, metric: 0, windowMs: 0, bucketMs: 0, halfLifeMs: 0, canonical: 'last(a)' },
      { fn: FeatureFn.Age, metric: 0, windowMs: 0, bucketMs: 0, halfLifeMs: 0, canonical: 'age(a)' },
    ],
    rules: [
      {
        id: 'positive', key: 'positive', when: { op: '>', left: { op: 'feature', index: 0 }, right: { op: 'num', value: 0 } },
        clear: null, forMs: 0, cooldownMs: 0, usesAge: false, match: [], reads: [{ kind: 'feature', index: 0 }], actions: [],
      },
      {
        id: 'silent', key: 'silent', when: { op: '>', left: { op: 'feature', index: 1 }, right: { op: 'num', value: 10 } },
        clear: null, forMs: 0, cooldownMs: 0, usesAge: true, match: [], reads: [], actions: [],
      },
    ],
  };
}

function records(memory: WebAssembly.Memory, base: number, len: number): Array<{ kind: number; rule: number; slot: number; state: number }> {
  const v = new DataView(memory.buffer, base, len);
  const out = [];
  for (let at = 0; at + 8 <= len; ) {
    const n = v.getUint32(at + L.O_LEN, true);
    out.push({ kind: v.getUint16(at + L.O_KIND, true), rule: v.getUint32(at + L.OT_RULE, true), slot: v.getUint32(at + L.OT_SLOT, true), state: v.getUint32(at + L.OT_STATE, true) });
    at += n;
  }
  return out;
}

describe('outbox guard and transitions', () => {
  it('stops early when the outbox cannot take another evaluation, then resumes where it stopped', () => {
    const { memory, layout } = createShardMemory({ outboxBytes: 4096, batchEvents: 1024 });
    const k = instantiateKernel(memory);
    writeProgram(memory, 0, encodeProgram(ruleSpec(), 1, null));
    k.switchProgram(0);
    const n = 300;
    const b = new DataView(memory.buffer, layout.batchBase, n * L.BATCH_EVENT_BYTES);
    for (let i = 0; i < n; i++) {
      b.setUint32(i * 24 + L.BE_SLOT, i % 3, true);
      b.setUint32(i * 24 + L.BE_METRIC, 0, true);
      b.setFloat64(i * 24 + L.BE_TS, T + i, true);
      b.setFloat64(i * 24 + L.BE_VALUE, Math.floor(i / 3) % 2 === 0 ? 1 : -1, true); // each device: fire, clear, fire…
    }
    const h = new Int32Array(memory.buffer, L.HEADER_BASE, 64);
    const all = [];
    let i = 0;
    let chunks = 0;
    while (i < n) {
      h[L.H_OUT_LEN / 4] = 0;
      i = k.applyBatch(i, n, 1000);
      all.push(...records(memory, layout.outBase, h[L.H_OUT_LEN / 4]));
      chunks++;
      expect(h[L.H_OUT_LEN / 4]).toBeLessThanOrEqual(4096);
    }
    expect(chunks).toBeGreaterThan(1);
    expect(all.length).toBe(n); // every event flips its device's rule
    expect(all.every((r) => r.kind === L.OK_TRANSITION && r.rule === 0)).toBe(true);
    expect(all.filter((r) => r.slot === 1).map((r) => r.state).slice(0, 3)).toEqual([L.STATE_FIRED, L.STATE_CLEARED, L.STATE_FIRED]);
    const c = readCounters(memory);
    expect(c.transitions).toBe(n);
    expect(c.eventsApplied).toBe(n);
    expect(k.ruleState(0, 0)).toBe(L.RS_IDLE); // device 0's last value (event 297) was −1
    expect(k.ruleState(2, 0)).toBe(L.RS_IDLE);
  });

  it('ticks every device with state and returns the slot limit', () => {
    const { memory, layout } = createShardMemory({ batchEvents: 16 });
    const k = instantiateKernel(memory);
    writeProgram(memory, 0, encodeProgram(ruleSpec(), 1, null));
    k.switchProgram(0);
    const b = new DataView(memory.buffer, layout.batchBase, 2 * L.BATCH_EVENT_BYTES);
    [0, 5].forEach((slot, i) => {
      b.setUint32(i * 24 + L.BE_SLOT, slot, true);
      b.setUint32(i * 24 + L.BE_METRIC, 0, true);
      b.setFloat64(i * 24 + L.BE_TS, T, true);
      b.setFloat64(i * 24 + L.BE_VALUE, -1, true);
    });
    k.applyBatch(0, 2, 1000);
    expect(k.ruleState(5, 1)).toBe(L.RS_IDLE);
    const h = new Int32Array(memory.buffer, L.HEADER_BASE, 64);
    h[L.H_OUT_LEN / 4] = 0;
    expect(k.tick(0, 60_000)).toBe(6);
    // the age rule (no reads) fired for both devices
    const recs = records(memory, layout.outBase, h[L.H_OUT_LEN / 4]);
    expect(recs.map((r) => [r.rule, r.slot, r.state])).toEqual([[1, 0, L.STATE_FIRED], [1, 5, L.STATE_FIRED]]);
    expect(k.ruleState(5, 1)).toBe(L.RS_FIRING);
    expect(readCounters(memory).transitions).toBe(2);
  });
});
