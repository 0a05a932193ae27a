import { describe, expect, it } from 'vitest';
import * as L from '../assembly/layout.js';
import { createShardMemory, readLayout } from '../src/kernel/memory.js';
import { instantiateKernel, readCounters } from '../src/kernel/kernel.js';
import { encodeProgram, inactiveProgramSlot, readProgramMeta, writeProgram } from '../src/kernel/program.js';
import { FeatureFn, type FeatureSpec, type ProgramSpec } from '../src/kernel/program-spec.js';

const T0 = 1_763_800_000_000; // a multiple of every bucket width below

function feature(fn: FeatureFn, metric: number, windowMs: number, canonical: string, bucketMs = windowMs / 20, halfLifeMs = 0): FeatureSpec {
  return { fn, metric, windowMs, bucketMs: windowMs ? bucketMs : 0, halfLifeMs, canonical };
}

function spec(features: FeatureSpec[], version = 1): ProgramSpec {
  return { version, metrics: ['temperature', 'error'], attrs: ['setpoint', 'type'], strings: ['thermostat'], features, rules: [] };
}

function setup(s: ProgramSpec) {
  const { memory, layout } = createShardMemory({ ringBytes: 1 << 16, outboxBytes: 1 << 16, programBytes: 1 << 16 });
  const k = instantiateKernel(memory);
  const slot = inactiveProgramSlot(memory);
  writeProgram(memory, slot, encodeProgram(s, 1, null));
  k.switchProgram(slot);
  const batch = (events: Array<[number, number, number, number]>, nowMs = 0): number => {
    const v = new DataView(memory.buffer, layout.batchBase, events.length * L.BATCH_EVENT_BYTES);
    events.forEach(([slot, metric, ts, value], i) => {
      const at = i * L.BATCH_EVENT_BYTES;
      v.setUint32(at + L.BE_SLOT, slot, true);
      v.setUint32(at + L.BE_METRIC, metric, true);
      v.setFloat64(at + L.BE_TS, ts, true);
      v.setFloat64(at + L.BE_VALUE, value, true);
    });
    return k.applyBatch(0, events.length, nowMs);
  };
  return { memory, layout, k, batch };
}

describe('kernel host side', () => {
  it('writes a header the kernel and readLayout agree on', () => {
    const { memory, layout } = createShardMemory({ shardId: 3 });
    expect(readLayout(memory)).toEqual(layout);
    expect(layout.arenaBase % L.PAGE).toBe(0);
    expect(layout.progBase[1]).toBeGreaterThanOrEqual(layout.progBase[0] + layout.progSize);
    const k = instantiateKernel(memory);
    k.init(); // idempotent
    expect(new Int32Array(memory.buffer, L.HEADER_BASE, 64)[L.H_KERNEL_READY / 4]).toBe(1);
    expect(Number.isNaN(k.deviceClock(0))).toBe(true);
  });

  it('refuses a memory without a shard header instead of overwriting it', () => {
    const bare = new WebAssembly.Memory({ initial: 128, maximum: 65536, shared: true });
    expect(() => instantiateKernel(bare)).toThrow();
  });

  it('applies a batch, tracks the clock and counters, and answers feature values', () => {
    const s = spec([
      feature(FeatureFn.Avg, 0, 300_000, 'avg(temperature, 5m)'),
      feature(FeatureFn.Count, 0, 300_000, 'count(temperature, 5m)'),
      feature(FeatureFn.Last, 0, 0, 'last(temperature)'),
      feature(FeatureFn.Age, 1, 0, 'age(error)'),
    ]);
    const { memory, k, batch } = setup(s);
    expect(batch([[0, 0, T0, 70], [0, 0, T0 + 1000, 72], [1, 0, T0 + 5, 10], [0, L.NO_METRIC, T0 + 2000, 1]], 5000)).toBe(4);
    expect(k.deviceClock(0)).toBe(T0 + 2000);
    expect(k.featureValue(0, 0, 0)).toBe(71);
    expect(k.featureValue(0, 1, 0)).toBe(2);
    expect(k.featureValue(0, 2, 0)).toBe(72);
    expect(k.featureValue(0, 3, 9000)).toBe(Infinity);
    expect(k.featureValue(1, 0, 0)).toBe(10);
    expect(k.featureValue(7, 1, 0)).toBe(0); // unknown device: empty window
    expect(Number.isNaN(k.featureValue(7, 0, 0))).toBe(true);
    const c = readCounters(memory);
    expect(c.eventsApplied).toBe(4);
    expect(c.devices).toBe(2);
  });

  it('reads the meta section back and refuses to overwrite the active program', () => {
    const s = spec([feature(FeatureFn.Last, 0, 0, 'last(temperature)')]);
    const { memory } = setup(s);
    const active = new Int32Array(memory.buffer, L.HEADER_BASE, 64)[L.H_ACTIVE_PROG / 4];
    expect(readProgramMeta(memory, active).metrics).toEqual(['temperature', 'error']);
    expect(() => writeProgram(memory, active, encodeProgram(s, 2, s))).toThrow(/active/);
  });

  it('stores attributes for the rule VM', () => {
    const { memory, layout, k } = setup(spec([]));
    const v = new DataView(memory.buffer, layout.scratchBase, 2 * L.ATTR_ENTRY_BYTES);
    v.setUint32(L.AE_ID, 0, true); v.setUint32(L.AE_KIND, L.ATTR_NUMBER, true); v.setFloat64(L.AE_VALUE, 70, true);
    v.setUint32(16 + L.AE_ID, 1, true); v.setUint32(16 + L.AE_KIND, L.ATTR_STRING, true); v.setFloat64(16 + L.AE_VALUE, 0, true);
    k.setAttrs(4, layout.scratchBase, 2);
    expect(k.deviceAttr(4, 0)).toBe(70);
    expect(Number.isNaN(k.deviceAttr(4, 1))).toBe(true);
    expect(k.deviceAttrIs(4, 1, L.ATTR_STRING, 0)).toBeTruthy();
    expect(k.deviceAttrIs(4, 1, L.ATTR_NUMBER, 0)).toBeFalsy();
    k.removeDevice(4);
    expect(Number.isNaN(k.deviceAttr(4, 0))).toBe(true);
    expect(readCounters(memory).devices).toBe(0);
  });
});
