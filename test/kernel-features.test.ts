// Edge cases of each feature function (SPEC §4.1/§4.2) in the real WASM kernel.
import { describe, expect, it } from 'vitest';
import { NO_METRIC } from '../assembly/layout.js';
import { FeatureFn as F, type FeatureSpec } from '../src/kernel/program-spec.js';
import { KernelHarness, close, feat, programSpec } from './kernel-harness.js';

const M = ['a', 'b'];
const T = 1_763_800_000_000; // multiple of 10 s: bucket boundaries at T + k·B
const W = 10_000;
const B = 1000;
const WINDOWED = [F.Count, F.Sum, F.Avg, F.Min, F.Max, F.Stddev, F.Delta, F.Rate, F.Deriv, F.Deriv2, F.RateDeriv, F.RateDeriv2];

function kernelWith(features: FeatureSpec[]): { h: KernelHarness; idx: (c: string) => number } {
  const h = new KernelHarness(programSpec(M, features));
  return { h, idx: (c) => features.findIndex((f) => f.canonical === c) };
}

const all = (): FeatureSpec[] => [
  ...WINDOWED.map((fn) => feat(fn, 0, M, W, B)),
  feat(F.Last, 0, M), feat(F.Ewma, 0, M, 0, 0, 2000), feat(F.Age, 0, M),
];

describe('empty window and first event', () => {
  it('before any event: count/sum/rate 0, age +Inf, the rest NaN', () => {
    const fs = all();
    const { h } = kernelWith(fs);
    h.apply([[0, 1, T, 5]]); // the device has a clock, metric a has no events
    fs.forEach((f, i) => {
      const v = h.value(0, i, T);
      if (f.fn === F.Count || f.fn === F.Sum || f.fn === F.Rate) expect(v, f.canonical).toBe(0);
      else if (f.fn === F.Age) expect(v).toBe(Infinity);
      else expect(Number.isNaN(v), f.canonical).toBe(true);
    });
  });

  it('one event: delta 0, stddev/deriv NaN, the value elsewhere', () => {
    const fs = all();
    const { h, idx } = kernelWith(fs);
    h.apply([[0, 0, T + 123, 42]], 1000);
    expect(h.value(0, idx('count(a, 10s, 1s)'))).toBe(1);
    expect(h.value(0, idx('sum(a, 10s, 1s)'))).toBe(42);
    expect(h.value(0, idx('avg(a, 10s, 1s)'))).toBe(42);
    expect(h.value(0, idx('min(a, 10s, 1s)'))).toBe(42);
    expect(h.value(0, idx('max(a, 10s, 1s)'))).toBe(42);
    expect(h.value(0, idx('delta(a, 10s, 1s)'))).toBe(0);
    expect(h.value(0, idx('rate(a, 10s, 1s)'))).toBe(0.1);
    expect(h.value(0, idx('last(a)'))).toBe(42);
    expect(h.value(0, idx('ewma(a, 2s)'))).toBe(42);
    expect(h.value(0, idx('age(a)'), 3500)).toBe(2.5);
    for (const c of ['stddev(a, 10s, 1s)', 'deriv(a, 10s, 1s)', 'deriv2(a, 10s, 1s)', 'rate_deriv(a, 10s, 1s)', 'rate_deriv2(a, 10s, 1s)']) {
      expect(Number.isNaN(h.value(0, idx(c))), c).toBe(true);
    }
  });

  it('the window empties again once τ moves past it', () => {
    const { h, idx } = kernelWith(all());
    h.apply([[0, 0, T, 1], [0, NO_METRIC, T + 60_000, 0]]);
    expect(h.value(0, idx('count(a, 10s, 1s)'))).toBe(0);
    expect(Number.isNaN(h.value(0, idx('avg(a, 10s, 1s)')))).toBe(true);
    expect(h.value(0, idx('last(a)'))).toBe(1); // not windowed
  });
});

describe('bucket boundaries and late events', () => {
  const fs = [feat(F.Count, 0, M, 3000, 1000), feat(F.Sum, 0, M, 3000, 1000), feat(F.Count, 0, M, 10_000, 1000)];

  it('an event at ts % B == 0 starts its bucket and leaves the window with it', () => {
    const { h } = kernelWith(fs);
    h.apply([[0, 0, T, 1]]);
    h.apply([[0, NO_METRIC, T + 2999, 0]]);
    expect(h.value(0, 0)).toBe(1); // buckets T/B .. T/B+2
    h.apply([[0, NO_METRIC, T + 3000, 0]]);
    expect(h.value(0, 0)).toBe(0); // window is now T/B+1 .. T/B+3
    expect(h.value(0, 2)).toBe(1);
  });

  it('an event whose bucket is older than the window is skipped and counted once', () => {
    const { h } = kernelWith(fs);
    h.apply([[0, 0, T + 2000, 1]]);
    h.apply([[0, 0, T - 1, 5]]); // bucket T/B − 1 < T/B + 2 − 3 + 1: late for the 3 s groups only
    h.apply([[0, 0, T, 7]]); // oldest bucket still inside: counts normally
    expect(h.value(0, 0)).toBe(2);
    expect(h.value(0, 1)).toBe(8);
    expect(h.value(0, 2)).toBe(3);
    expect(h.counters().lateEvents).toBe(1);
    h.apply([[0, 0, T - 20_000, 5]]); // late for both groups: still one event
    expect(h.counters().lateEvents).toBe(2);
  });

  it('the clock is per device and moved by every metric', () => {
    const { h } = kernelWith(fs);
    h.apply([[0, 1, T + 5000, 0], [1, 0, T, 1]]);
    h.apply([[0, 0, T, 1]]); // late on device 0 (τ from metric b), fine on device 1
    expect(h.value(0, 0)).toBe(0);
    expect(h.value(1, 0)).toBe(1);
    expect(h.k.deviceClock(0)).toBe(T + 5000);
  });
});

describe('fits', () => {
  const fs = [feat(F.Deriv, 0, M, W, B), feat(F.Deriv2, 0, M, W, B), feat(F.RateDeriv, 0, M, W, B), feat(F.RateDeriv2, 0, M, W, B)];

  it('deriv needs two distinct timestamps; equal ts stay NaN', () => {
    const { h } = kernelWith(fs);
    h.apply([[0, 0, T + 500, 1], [0, 0, T + 500, 3]]);
    expect(Number.isNaN(h.value(0, 0))).toBe(true);
    h.apply([[0, 0, T + 2500, 6]]); // points (0.5 s, 1), (0.5 s, 3), (2.5 s, 6): slope (6 − 2)/2
    expect(close(h.value(0, 0), 2, 1e-9, 0)).toBe(true);
  });

  it('deriv2 needs three distinct timestamps and is 2c of the quadratic', () => {
    const { h } = kernelWith(fs);
    const q = (s: number): number => 3 * s * s - 2 * s + 1000; // 2c = 6
    h.apply([[0, 0, T + 1000, q(1)], [0, 0, T + 1000, q(1)], [0, 0, T + 4000, q(4)]]);
    expect(Number.isNaN(h.value(0, 1))).toBe(true);
    h.apply([[0, 0, T + 2000, q(2)]]); // strictly between: third distinct ts
    expect(close(h.value(0, 1), 6, 1e-6, 0)).toBe(true);
  });

  it('deriv is exact on a line far from the epoch origin, across buckets', () => {
    const { h } = kernelWith(fs);
    for (let i = 0; i < 20; i++) h.apply([[0, 0, T + 137 + i * 450, 0.25 * (137 + i * 450) / 1000 - 7]]);
    expect(close(h.value(0, 0), 0.25, 1e-9, 1e-12)).toBe(true);
    expect(close(h.value(0, 1), 0, 0, 1e-9)).toBe(true);
  });

  it('rate fits use completed buckets from the first bucket seen', () => {
    const { h } = kernelWith(fs);
    const ev = (k: number, n: number) => Array.from({ length: n }, () => [0, 0, T + k * B + 10, 1] as [number, number, number, number]);
    h.apply([...ev(0, 1), ...ev(1, 2)]);
    expect(Number.isNaN(h.value(0, 2))).toBe(true); // one completed bucket
    h.apply(ev(2, 5));
    expect(close(h.value(0, 2), 1, 1e-9, 0)).toBe(true); // rates 1, 2 over buckets 0, 1
    expect(Number.isNaN(h.value(0, 3))).toBe(true);
    h.apply(ev(3, 1)); // completed: 1, 2, 5 → curvature 2c = 2
    expect(close(h.value(0, 3), 2, 1e-9, 1e-12)).toBe(true);
    h.apply([[0, NO_METRIC, T + 5 * B, 0]]); // empty bucket 4 counts as rate 0: 1, 2, 5, 1, 0
    const xs = [0, 1, 2, 3, 4];
    const ys = [1, 2, 5, 1, 0];
    const slope = xs.reduce((a, x, i) => a + (x - 2) * (ys[i] - 1.8), 0) / 10;
    expect(close(h.value(0, 2), slope, 1e-9, 1e-12)).toBe(true);
    h.apply([[0, NO_METRIC, T + 100 * B, 0]]); // the window is empty: NaN (SPEC §4.1)
    expect(Number.isNaN(h.value(0, 2))).toBe(true);
    h.apply([[0, 0, T + 100 * B + 1, 1]]); // one event in the current bucket: completed buckets all rate 0
    expect(h.value(0, 2)).toBe(0);
  });
});

describe('ties, ewma and age', () => {
  it('delta and last: earliest ts ties keep the first arrival, latest ts ties the latest', () => {
    const { h } = kernelWith([feat(F.Delta, 0, M, W, B), feat(F.Last, 0, M)]);
    h.apply([[0, 0, T + 100, 1], [0, 0, T + 100, 2], [0, 0, T + 900, 10], [0, 0, T + 900, 20], [0, 0, T + 500, 99]]);
    expect(h.value(0, 0)).toBe(19);
    expect(h.value(0, 1)).toBe(20);
  });

  it('ewma: first value seeds; one half-life moves halfway; older events move nothing', () => {
    const { h } = kernelWith([feat(F.Ewma, 0, M, 0, 0, 2000)]);
    h.apply([[0, 0, T, 10]]);
    h.apply([[0, 0, T + 2000, 20]]);
    expect(close(h.value(0, 0), 15, 1e-12, 0)).toBe(true);
    h.apply([[0, 0, T + 1000, 1000]]); // Δt = max(0, ts − greatest) = 0
    expect(close(h.value(0, 0), 15, 1e-12, 0)).toBe(true);
  });

  it('age uses the wall clock of the last event', () => {
    const { h } = kernelWith([feat(F.Age, 0, M)]);
    h.apply([[0, 0, T, 1]], 10_000);
    h.apply([[0, 0, T - 5000, 1]], 12_000);
    expect(h.value(0, 0, 15_000)).toBe(3);
  });
});

describe('device table and bad input', () => {
  it('grows on demand to far slots, keeps devices apart and forgets removed ones', () => {
    const { h } = kernelWith([feat(F.Sum, 0, M, W, B), feat(F.Last, 0, M)]);
    const slots = [0, 1, 4095, 70_000, 1_000_000];
    slots.forEach((s, i) => h.apply([[s, 0, T, i + 1]]));
    slots.forEach((s, i) => expect(h.value(s, 0)).toBe(i + 1));
    expect(h.counters().devices).toBe(slots.length);
    h.k.removeDevice(70_000);
    expect(h.value(70_000, 0)).toBe(0);
    expect(Number.isNaN(h.k.deviceClock(70_000))).toBe(true);
    expect(h.counters().devices).toBe(slots.length - 1);
    h.apply([[70_000, 0, T, 5]]);
    expect(h.value(70_000, 0)).toBe(5);
  });

  it('skips events it cannot hold without trapping', () => {
    const { h } = kernelWith([feat(F.Sum, 0, M, W, B)]);
    h.apply([[0xffffffff, 0, T, 1], [0, 0, NaN, 1], [0, 0, T, Infinity], [0, 0, 1e300, 1], [0, 7, T, 1], [0, 0, T, 2]]);
    expect(h.value(0, 0)).toBe(2);
    expect(h.k.deviceClock(0)).toBe(T);
    expect(h.k.applyBatch(5, 2, 0)).toBe(5);
    expect(h.k.applyBatch(-3, 1_000_000, 0)).toBe(h.layout.batchCap);
    expect(h.k.featureValue(0, 99, 0)).toBeNaN();
  });

  it('state per device stays within 2 KiB for four default features', () => {
    const { h } = kernelWith([feat(F.Avg, 0, M, 300_000), feat(F.Max, 0, M, 300_000), feat(F.Deriv, 0, M, 300_000), feat(F.Rate, 0, M, 300_000)]);
    const stride = new DataView(h.memory.buffer).getUint32(65536 + 1024 + 16, true);
    expect(stride).toBeLessThanOrEqual(2048);
  });
});
