// Property tests: the WASM kernel equals the reference model after every event, for every
// feature of SPEC §4.1, within the SPEC §4.2 tolerances.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { H_KERNEL_PRIVATE, HEADER_BASE, NO_METRIC } from '../assembly/layout.js';
import { FeatureFn, type FeatureSpec, type ProgramSpec } from '../src/kernel/program-spec.js';
import { ReferenceFeatures } from '../src/reference/features.js';
import { KernelHarness, T0, close, feat, programSpec, type Ev } from './kernel-harness.js';

const METRICS = ['a', 'b', 'c'];
const TIGHT = new Set<number>([FeatureFn.Count, FeatureFn.Sum, FeatureFn.Avg, FeatureFn.Min, FeatureFn.Max, FeatureFn.Last, FeatureFn.Delta, FeatureFn.Rate, FeatureFn.Ewma, FeatureFn.Age]);

function allFeatures(): FeatureSpec[] {
  const fs: FeatureSpec[] = [];
  const windowed = [FeatureFn.Count, FeatureFn.Sum, FeatureFn.Avg, FeatureFn.Min, FeatureFn.Max, FeatureFn.Stddev, FeatureFn.Delta,
    FeatureFn.Rate, FeatureFn.Deriv, FeatureFn.Deriv2, FeatureFn.RateDeriv, FeatureFn.RateDeriv2];
  for (const fn of windowed) {
    fs.push(feat(fn, 0, METRICS, 10_000, 1000)); // 10 buckets
    fs.push(feat(fn, 1, METRICS, 6000, 2000)); // 3 buckets
  }
  for (const fn of [FeatureFn.Count, FeatureFn.Avg, FeatureFn.Deriv, FeatureFn.Max]) fs.push(feat(fn, 0, METRICS, 1000, 1000)); // one bucket
  fs.push(feat(FeatureFn.Deriv2, 1, METRICS, 60_000)); // default B = W/20
  for (const m of [0, 1, 2]) {
    fs.push(feat(FeatureFn.Last, m, METRICS));
    fs.push(feat(FeatureFn.Age, m, METRICS));
    fs.push(feat(FeatureFn.Ewma, m, METRICS, 0, 0, 2000));
  }
  return fs;
}

/** A stream: mostly forward in time with jitter, out-of-order and late events, duplicates and long gaps. */
const stepArb = fc.record({
  slot: fc.integer({ min: 0, max: 2 }),
  metric: fc.constantFrom(0, 0, 1, 1, 2, NO_METRIC),
  dt: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: -300, max: 1500 }) },
    { weight: 2, arbitrary: fc.constant(0) },
    { weight: 2, arbitrary: fc.integer({ min: -20_000, max: -1000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 30_000, max: 5_000_000 }) },
  ),
  v: fc.integer({ min: -1000, max: 1000 }),
  // Sub-millisecond timestamps now and then, never closer than 0.25 ms to another one.
  // Known limit (docs/kernel.md, "Numerics"): with 0.999 here, fast-check found (seed
  // 64906978) three points at 0, -0.001 and +10 ms whose quadratic fit is so ill-conditioned
  // that kernel (2.3e-6) and reference (5.1e-6) both miss the exact deriv2 by more than 1e-6.
  frac: fc.constantFrom(0, 0, 0, 0.25, 0.75),
});
const streamArb = fc.record({
  start: fc.integer({ min: 0, max: 100_000_000 }),
  scale: fc.constantFrom(1, 0.001, 1e-150, 1e150, 123.456),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 60 }),
});

function toEvents(start: number, scale: number, steps: Array<{ slot: number; metric: number; dt: number; v: number; frac: number }>): Ev[] {
  let t = T0 + start;
  return steps.map((s) => {
    t += s.dt;
    return [s.slot, s.metric, t + s.frac, s.v * scale];
  });
}

function tolerance(f: FeatureSpec, scale: number): [number, number] {
  // absolute part scaled to the data: sums of values of one magnitude may cancel to ~0
  if (TIGHT.has(f.fn)) return [1e-9, 1e-9 * 1000 * scale * 60];
  // fits over integer-ms time: the scale of a slope is |v| per ms
  const perSec = f.fn === FeatureFn.Deriv2 || f.fn === FeatureFn.RateDeriv2 ? 1e6 : 1e3;
  return [1e-6, 1e-6 * 1000 * scale * perSec * 1e-3];
}

/** Both query paths: the scan (featureValue) and the window cache the rule VM reads (queryFeature). */
function check(h: KernelHarness, ref: ReferenceFeatures, features: FeatureSpec[], scale: number, nowMs: number, ctx: string, paths: Array<'scan' | 'cached'> = ['scan', 'cached']): void {
  for (const slot of [0, 1, 2, 3]) {
    expect(Object.is(h.k.deviceClock(slot), ref.clock(slot)) || h.k.deviceClock(slot) === ref.clock(slot), `${ctx} clock ${slot}`).toBe(true);
    features.forEach((f, i) => {
      const b = ref.value(slot, i, nowMs);
      const [rel, abs] = tolerance(f, scale);
      for (const path of paths) {
        const a = path === 'scan' ? h.value(slot, i, nowMs) : h.cached(slot, i, nowMs);
        if (!close(a, b, rel, abs)) {
          throw new Error(`${ctx}: slot ${slot} ${f.canonical} (${path}): kernel ${a} reference ${b}`);
        }
      }
    });
  }
}

type Stream = { start: number; scale: number; steps: Array<{ slot: number; metric: number; dt: number; v: number; frac: number }> };

/** One event at a time; the cached path checked after every `every`-th event and the last. */
function checkCachedEvery(spec: ProgramSpec, features: FeatureSpec[], { start, scale, steps }: Stream, every: number): void {
  const h = new KernelHarness(spec);
  const ref = new ReferenceFeatures(spec);
  const events = toEvents(start, scale, steps);
  events.forEach((e, i) => {
    const now = 1000 + i * 7;
    h.apply([e], now);
    ref.apply(e[0], e[1], e[2], e[3], now);
    if (i % every === 0 || i === events.length - 1) check(h, ref, features, scale, now + 3, `event ${i}`, ['cached']);
  });
  expect(h.counters().lateEvents).toBe(ref.lateEvents());
}

describe('kernel features equal the reference (property)', () => {
  const features = allFeatures();
  const spec = programSpec(METRICS, features);

  it('after every event, for every feature of every device', () => {
    fc.assert(
      fc.property(streamArb, ({ start, scale, steps }) => {
        const h = new KernelHarness(spec);
        const ref = new ReferenceFeatures(spec);
        const events = toEvents(start, scale, steps);
        events.forEach((e, i) => {
          const now = 1000 + i * 7;
          h.apply([e], now);
          ref.apply(e[0], e[1], e[2], e[3], now);
          check(h, ref, features, scale, now + 3, `event ${i}`);
        });
        expect(h.counters().lateEvents).toBe(ref.lateEvents());
        expect(h.counters().eventsApplied).toBe(events.length);
      }),
      { numRuns: 100 },
    );
  });

  it('the window cache stays exact across runs of events between queries', () => {
    fc.assert(
      fc.property(streamArb, fc.integer({ min: 2, max: 6 }), (stream, every) => { checkCachedEvery(spec, features, stream, every); }),
      { numRuns: 60 },
    );
  });

  it('a device table large enough to touch ahead (kernel/touch.ts) gives the same state, bad slots included', () => {
    // one far device makes slot limit × stride pass TOUCH_MIN_BYTES (4 MiB): the loop then
    // touches every chunk ahead, through empty directory pages and past slots it rejects
    const FAR = 300_000;
    fc.assert(
      fc.property(streamArb, fc.array(fc.constantFrom(2 ** 24, 2 ** 24 + 7, 0xffffffff, 123_456), { maxLength: 6 }), ({ start, scale, steps }, bad) => {
        const h = new KernelHarness(spec);
        const ref = new ReferenceFeatures(spec);
        const events = toEvents(start, scale, steps);
        // the far device first, in a batch of its own: applyEvents decides once per call
        const far: Ev = [FAR, 0, events[0][2], 1];
        h.apply([far], 5000);
        ref.apply(far[0], far[1], far[2], far[3], 5000);
        const priv = HEADER_BASE + H_KERNEL_PRIVATE; // K_STRIDE at +16, K_SLOT_LIMIT at +20 (assembly/kernel/private.ts)
        const dv = new DataView(h.memory.buffer);
        expect(dv.getUint32(priv + 20, true) * dv.getUint32(priv + 16, true)).toBeGreaterThanOrEqual(4 << 20);
        const withBad: Ev[] = [...events];
        bad.forEach((slot, i) => withBad.splice((i * 7) % events.length, 0, [slot, 0, events[0][2], 1]));
        h.apply(withBad, 5000);
        for (const e of withBad) if (e[0] < 2 ** 24) ref.apply(e[0], e[1], e[2], e[3], 5000);
        check(h, ref, features, scale, 9000, 'touched batch');
        expect(h.counters().eventsApplied).toBe(1 + withBad.filter((e) => e[0] < 2 ** 24).length);
      }),
      { numRuns: 40 },
    );
  });

  it('whole batches give the same state as single events', () => {
    fc.assert(
      fc.property(streamArb, ({ start, scale, steps }) => {
        const h = new KernelHarness(spec);
        const ref = new ReferenceFeatures(spec);
        const events = toEvents(start, scale, steps);
        h.apply(events, 5000);
        for (const e of events) ref.apply(e[0], e[1], e[2], e[3], 5000);
        check(h, ref, features, scale, 9000, 'batch');
        expect(h.counters().lateEvents).toBe(ref.lateEvents());
      }),
      { numRuns: 40 },
    );
  });
});

/**
 * Groups whose window cache slides (count, sum, avg, min, max, delta, rate; nb ≤ 64): a
 * bucket leaving the window is taken back out of the cached merge instead of rescanning.
 * Windows of 1, 3, 10, 64 and 70 buckets (70: too wide to slide, refilled instead), groups
 * reading only max or only min, and queries after every event or after runs of events.
 */
function slidingFeatures(): FeatureSpec[] {
  const fs: FeatureSpec[] = [];
  for (const fn of [FeatureFn.Count, FeatureFn.Sum, FeatureFn.Avg, FeatureFn.Min, FeatureFn.Max, FeatureFn.Delta, FeatureFn.Rate]) {
    fs.push(feat(fn, 0, METRICS, 10_000, 1000));
  }
  fs.push(feat(FeatureFn.Max, 0, METRICS, 3000, 1000));
  fs.push(feat(FeatureFn.Min, 0, METRICS, 4000, 1000));
  fs.push(feat(FeatureFn.Avg, 1, METRICS, 6000, 2000), feat(FeatureFn.Max, 1, METRICS, 6000, 2000));
  fs.push(feat(FeatureFn.Sum, 1, METRICS, 64_000, 1000), feat(FeatureFn.Min, 1, METRICS, 64_000, 1000));
  fs.push(feat(FeatureFn.Count, 1, METRICS, 1000, 1000));
  fs.push(feat(FeatureFn.Avg, 2, METRICS, 70_000, 1000), feat(FeatureFn.Delta, 2, METRICS, 5000, 1000));
  return fs;
}

describe('the sliding window cache equals the reference (property)', () => {
  const features = slidingFeatures();
  const spec = programSpec(METRICS, features);

  it('queried after every event or after runs of 2–9 events', () => {
    fc.assert(
      fc.property(streamArb, fc.integer({ min: 1, max: 9 }), (stream, every) => { checkCachedEvery(spec, features, stream, every); }),
      { numRuns: 150 },
    );
  });

  it('monotone runs (a cooling house): the window max leaves with almost every bucket', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.array(fc.integer({ min: 200, max: 2500 }), { minLength: 5, maxLength: 80 }), fc.boolean(), (start, gaps, down) => {
        const h = new KernelHarness(spec);
        const ref = new ReferenceFeatures(spec);
        let t = T0 + start;
        gaps.forEach((dt, i) => {
          t += dt;
          const v = down ? 1000 - i * 3 : i * 3;
          h.apply([[0, i % 5 === 4 ? 1 : 0, t, v]], 10);
          ref.apply(0, i % 5 === 4 ? 1 : 0, t, v, 10);
          check(h, ref, features, 1, 10, `event ${i}`, ['cached']);
        });
      }),
      { numRuns: 60 },
    );
  });
});

/**
 * Sliding min/max: when the bucket holding the extreme leaves, the cache merges the extremes
 * again from the buckets that stay. Random walks with long monotone runs and ties, events
 * that go back into older buckets of the window, gaps that empty the window, τ moved by
 * another metric; groups reading max and min, max alone, min alone.
 */
describe('sliding min/max equal the reference (property)', () => {
  const features = [
    feat(FeatureFn.Max, 0, METRICS, 8000, 1000), feat(FeatureFn.Min, 0, METRICS, 8000, 1000),
    feat(FeatureFn.Max, 0, METRICS, 5000, 1000), feat(FeatureFn.Min, 1, METRICS, 12_000, 2000),
  ];
  const spec = programSpec(METRICS, features);
  const step = fc.record({
    dt: fc.constantFrom(0, 300, 700, 1000, 1000, 1500, 2500, 9000, -600, -2500, -4500),
    dv: fc.constantFrom(-3, -2, -1, -1, 0, 1, 1, 2, 3),
    flip: fc.boolean(),
    metric: fc.constantFrom(0, 0, 0, 1),
  });
  it('queried after every event or after runs of events', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.array(step, { minLength: 5, maxLength: 120 }), fc.integer({ min: 1, max: 4 }), (start, steps, every) => {
        const h = new KernelHarness(spec);
        const ref = new ReferenceFeatures(spec);
        let t = T0 + start, v = 0, dir = 1;
        steps.forEach((s, i) => {
          t += s.dt;
          if (s.flip && i % 7 === 0) dir = -dir;
          v += dir * Math.abs(s.dv);
          h.apply([[0, s.metric, t, v]], 10);
          ref.apply(0, s.metric, t, v, 10);
          if (i % every === 0) check(h, ref, features, 1, 10, `event ${i}`, ['cached']);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('the max leaves twice in a falling window while another metric moves τ', () => {
    const h = new KernelHarness(spec);
    const ref = new ReferenceFeatures(spec);
    const at = (bucket: number): number => T0 + bucket * 1000 + 100;
    // buckets 0…5 falling, then an event back in bucket 1
    const events: Ev[] = [10, 9, 8, 7, 6, 5].map((v, k): Ev => [0, 0, at(k), v]);
    events.push([0, 0, at(1), 1]);
    // the other metric moves τ: bucket 0 leaves, then bucket 1; a small value joins; buckets 2
    // and 3 leave: the max is bucket 4's 6
    events.push([0, 1, at(8), 0], [0, 1, at(9), 0], [0, 0, at(9), 1], [0, 1, at(11), 0]);
    events.forEach((e, i) => {
      h.apply([e], 10);
      ref.apply(e[0], e[1], e[2], e[3], 10);
      check(h, ref, features, 1, 10, `event ${i}`, ['cached']);
    });
    expect(h.cached(0, 0, 10)).toBe(6);
  });
});

describe('the sliding cache keeps sums exact when large values leave', () => {
  it('1e17 + 3 rounds to 1e17 in the cache; once 1e17 leaves, the sum is 3 + 4, not 4', () => {
    const features = [feat(FeatureFn.Sum, 0, METRICS, 10_000, 1000), feat(FeatureFn.Avg, 0, METRICS, 10_000, 1000)];
    const h = new KernelHarness(programSpec(METRICS, features));
    const t = T0 - (T0 % 1000);
    h.apply([[0, 0, t, 1e17], [0, 0, t + 1000, 3]]);
    expect(h.cached(0, 0)).toBe(1e17); // the scan gives the same rounded sum
    h.apply([[0, 0, t + 10_500, 4]]); // bucket t leaves the window
    expect(h.cached(0, 0)).toBe(7);
    expect(h.cached(0, 1)).toBe(3.5);
    expect(h.value(0, 0)).toBe(7);
  });

  it('a cancelling window (+x, −x) answers like the scan on every query', () => {
    const features = [feat(FeatureFn.Sum, 0, METRICS, 4000, 1000)];
    const h = new KernelHarness(programSpec(METRICS, features));
    const t = T0 - (T0 % 1000);
    for (let i = 0; i < 40; i++) {
      h.apply([[0, 0, t + i * 700, i % 2 === 0 ? 1e10 + i : -1e10]]);
      expect(h.cached(0, 0), `event ${i}`).toBe(h.value(0, 0));
    }
  });
});
