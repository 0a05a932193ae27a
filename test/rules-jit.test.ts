// The compiled rule evaluator (src/kernel/rules-jit/) against the interpreter it replaces
// after events: the same random rule sets and streams through two kernels, one compiling the
// rules and one interpreting them, must give the same records and leave the same kernel
// memory, byte for byte — window caches included, so a cache synced or refilled at another
// moment than the interpreter's would show — and the same counts of applied, late and
// transition events, and the window caches' value FIFOs must hold
// what the ring records do (window-fifo-check.ts). test/rules-kernel.test.ts holds the compiled path
// (the default) to the reference engine.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HEADER_BASE, H_EVENTS_APPLIED, H_LATE_EVENTS, H_TRANSITIONS, P_RULES_OFF, PAGE, STATE_FIRED } from '../assembly/layout.js';
import { RULES_HEADER_BYTES, RR_WHEN } from '../assembly/rules/format.js';
import { encodeProgram, writeProgram } from '../src/kernel/program.js';
import { FeatureFn, type Expr, type FeatureSpec, type ProgramSpec, type RuleSpec } from '../src/kernel/program-spec.js';
import { compileRulesModule } from '../src/kernel/rules-jit/index.js';
import type { Transition } from '../src/reference/rules.js';
import { arbDrafts, arbSteps, buildSpec, switchDrafts, BASE_TS, type RuleDraft, type Step } from './rules-kernel-arb.js';
import { KernelDriver, type BatchEvent } from './rules-kernel-driver.js';
import { fifoViolation } from './window-fifo-check.js';

/**
 * Event values: small integers, magnitudes whose sums cancel (window sums drift, then
 * rescan), and −0 (a bucket of it sums to +0: the value FIFO must take out what the ring would).
 */
const VALUES = [0, 1, 3, 5, 7, 1e17, -1e17, 2.5, 1e-300, 9, 10, -0];

function sameRecords(a: Transition[], b: Transition[]): string | null {
  if (a.length !== b.length) return `${a.length} records compiled, ${b.length} interpreted`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    const same = x.rule === y.rule && x.slot === y.slot && x.state === y.state && Object.is(x.ts, y.ts)
      && x.version === y.version && x.values.length === y.values.length && x.values.every((v, j) => Object.is(v, y.values[j]));
    if (!same) return `record ${i}: compiled ${JSON.stringify(x)} interpreted ${JSON.stringify(y)}`;
  }
  return null;
}

/** First differing byte of the two kernels' memories past the header page (its VM scratch is the interpreter's own). */
function sameMemory(a: WebAssembly.Memory, b: WebAssembly.Memory): string | null {
  const x = Buffer.from(a.buffer, HEADER_BASE + PAGE), y = Buffer.from(b.buffer, HEADER_BASE + PAGE);
  if (x.equals(y)) return null;
  if (x.length !== y.length) return `memory sizes ${x.length} and ${y.length}`;
  let i = 0;
  while (x[i] === y[i]) i++;
  return `memory differs at byte ${HEADER_BASE + PAGE + i}`;
}

/** The header's event counters of the two kernels (the header page is not compared byte for byte), or null when equal. */
function sameCounters(a: WebAssembly.Memory, b: WebAssembly.Memory): string | null {
  const x = new DataView(a.buffer), y = new DataView(b.buffer);
  for (const [name, at] of [['applied', H_EVENTS_APPLIED], ['late', H_LATE_EVENTS], ['transitions', H_TRANSITIONS]] as const) {
    const u = x.getFloat64(HEADER_BASE + at, true), v = y.getFloat64(HEADER_BASE + at, true);
    if (u !== v) return `${name} events: ${u} compiled, ${v} interpreted`;
  }
  return null;
}

function run(drafts0: RuleDraft[], steps: Step[], batch: number, outboxBytes: number): string | null {
  let drafts = drafts0;
  return runSpec(buildSpec(drafts, 1), steps, batch, outboxBytes, (s, version) => {
    drafts = switchDrafts(drafts, s);
    return buildSpec(drafts, version);
  });
}

/** Steps through a compiling and an interpreting kernel; the first difference in records or memory, or null. */
function runSpec(
  spec: ProgramSpec, steps: Step[], batch: number, outboxBytes: number,
  next: (s: Step & { kind: 'switch' }, version: number) => ProgramSpec,
): string | null {
  const jit = new KernelDriver(spec, { outboxBytes, rulesJit: true });
  const vm = new KernelDriver(spec, { outboxBytes, rulesJit: false });
  const a: Transition[] = [], b: Transition[] = [];
  let pending: BatchEvent[] = [];
  let now = 0;
  const flush = (): void => {
    if (pending.length === 0) return;
    a.push(...jit.apply(pending, now));
    b.push(...vm.apply(pending, now));
    pending = [];
  };
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (s.kind === 'event') {
      pending.push({ slot: s.slot, metric: s.metric, ts: s.ts, value: VALUES[s.value % VALUES.length] });
      now = s.now;
      if (pending.length < batch && steps[i + 1]?.kind === 'event') continue;
      flush();
    } else if (s.kind === 'attrs') {
      jit.setAttrs(s.slot, s.attrs);
      vm.setAttrs(s.slot, s.attrs);
    } else if (s.kind === 'remove') {
      jit.k.removeDevice(s.slot);
      vm.k.removeDevice(s.slot);
    } else if (s.kind === 'tick') {
      a.push(...jit.tick(s.now));
      b.push(...vm.tick(s.now));
    } else {
      const program = next(s, jit.program.version + 1);
      jit.install(program);
      vm.install(program);
    }
    const d = sameRecords(a, b) ?? sameMemory(jit.memory, vm.memory) ?? sameCounters(jit.memory, vm.memory) ?? fifoViolation(jit.memory, jit.program);
    if (d) return `after step ${i} (${s.kind}): ${d}`;
  }
  return null;
}

/** A windowed feature of the test programs below. */
const feat = (fn: FeatureFn, metric: number, windowMs: number, bucketMs: number, canonical: string): FeatureSpec =>
  ({ fn, metric, windowMs, bucketMs, halfLifeMs: 0, canonical });

/** A rule without for, clear, cooldown or match that reads features `reads`. */
const plainRule = (id: string, when: Expr, reads: number[]): RuleSpec => ({
  id, key: id, when, clear: null, forMs: 0, cooldownMs: 0, usesAge: false, match: [],
  reads: reads.map((index) => ({ kind: 'feature' as const, index })), actions: [],
});

/**
 * Rules over sliding window groups only (the ones the compiled upkeep keeps): a group whose
 * min and max both count, one with first/last beside a sum, one of another metric with min
 * only, so that buckets holding a cached extreme leave the window and others do not.
 */
function slidingSpec(): ProgramSpec {
  const features = [
    feat(FeatureFn.Max, 0, 4_000, 250, 'max(temperature, 4s, 250ms)'),
    feat(FeatureFn.Min, 0, 4_000, 250, 'min(temperature, 4s, 250ms)'),
    feat(FeatureFn.Count, 0, 4_000, 250, 'count(temperature, 4s, 250ms)'),
    feat(FeatureFn.Delta, 0, 3_000, 1_000, 'delta(temperature, 3s, 1s)'),
    feat(FeatureFn.Avg, 0, 3_000, 1_000, 'avg(temperature, 3s, 1s)'),
    feat(FeatureFn.Min, 1, 2_000, 500, 'min(errors, 2s, 500ms)'),
    feat(FeatureFn.Sum, 1, 2_000, 500, 'sum(errors, 2s, 500ms)'),
  ];
  const cmp = (op: '<' | '>', f: number, value: number): Expr => ({ op, left: { op: 'feature', index: f }, right: { op: 'num', value } });
  const and = (left: Expr, right: Expr): Expr => ({ op: 'and', left, right });
  // the groups read only behind an `and` are not synced by every evaluation: their tags lag
  // τ, and a late event of their metric then slides them from an older bucket
  const whens: Array<[Expr, number[]]> = [
    [cmp('>', 0, 6), [0]],
    [cmp('<', 1, 3), [1]],
    [and(cmp('>', 2, 3), cmp('>', 3, 0)), [2, 3]],
    [and(cmp('>', 2, 5), cmp('>', 4, 5)), [2, 4]],
    [and(cmp('>', 0, 8), cmp('<', 5, 4)), [0, 5]],
    [and(cmp('>', 0, 8), cmp('>', 6, 9)), [0, 6]],
  ];
  const rules = whens.map(([when, reads], i) => plainRule(`s${i}`, when, reads));
  return { version: 1, metrics: ['temperature', 'errors'], attrs: [], strings: [], features, rules };
}

/** Two devices, both metrics, steps of 0 to 5 s, some late or out of order, values 0 … 10 (0: the cancelling magnitudes). */
const arbSlidingSteps = (): fc.Arbitrary<Step[]> => fc.array(fc.record({
  slot: fc.integer({ min: 0, max: 1 }),
  metric: fc.integer({ min: 0, max: 1 }),
  dt: fc.constantFrom(0, 100, 250, 250, 500, 700, 1_000, 1_500, 2_500, 5_000),
  back: fc.constantFrom(0, 0, 0, 0, 0, 300, 1_200, 4_500),
  value: fc.integer({ min: 0, max: 10 }),
}), { minLength: 1, maxLength: 80 }).map((raw) => {
  let clock = BASE_TS;
  return raw.map((r): Step => {
    clock += r.dt;
    return { kind: 'event', slot: r.slot, metric: r.metric, ts: clock - r.back, value: r.value === 0 ? 5 + (r.dt % 2) : r.value, now: clock + 5 };
  });
});

/**
 * Rules that read small sliding windows directly (every evaluation syncs their caches):
 * windows of 3, 4 and 16 buckets.
 */
function smallWindowsSpec(): ProgramSpec {
  const features = [
    feat(FeatureFn.Avg, 0, 3_000, 1_000, 'avg(temperature, 3s, 1s)'),
    feat(FeatureFn.Max, 0, 2_000, 500, 'max(temperature, 2s, 500ms)'),
    feat(FeatureFn.Count, 0, 4_000, 250, 'count(temperature, 4s, 250ms)'),
  ];
  const rules = [6, 8, 5].map((value, f) => plainRule(`f${f}`, { op: '>', left: { op: 'feature', index: f }, right: { op: 'num', value } }, [f]));
  return { version: 1, metrics: ['temperature'], attrs: [], strings: [], features, rules };
}

/** One device, steps of 0 to 1 s, many events late into an earlier bucket of the window (some into none). */
const arbLateSteps = (): fc.Arbitrary<Step[]> => fc.array(fc.record({
  dt: fc.constantFrom(0, 100, 250, 250, 500, 1_000),
  back: fc.constantFrom(0, 0, 0, 200, 400, 700, 1_100, 1_900, 3_500),
  value: fc.integer({ min: 1, max: 10 }),
}), { minLength: 1, maxLength: 120 }).map((raw) => {
  let clock = BASE_TS;
  return raw.map((r): Step => {
    clock += r.dt;
    return { kind: 'event', slot: 0, metric: 0, ts: clock - r.back, value: r.value, now: clock + 5 };
  });
});

/**
 * Rules over a 16-bucket window whose group (n, sum, min/max) keeps a value FIFO of
 * FIFO_K = 8 entries, fed denser than that: the FIFO overflows (its oldest buckets go
 * missing), empties, takes out buckets of one value and of several, and merges the max again.
 */
function fifoSpec(): ProgramSpec {
  const features = [
    feat(FeatureFn.Max, 0, 4_000, 250, 'max(temperature, 4s, 250ms)'),
    feat(FeatureFn.Avg, 0, 4_000, 250, 'avg(temperature, 4s, 250ms)'),
  ];
  const rules = [plainRule('mx', { op: '>', left: { op: 'feature', index: 0 }, right: { op: 'num', value: 8 } }, [0]),
    plainRule('av', { op: '<', left: { op: 'feature', index: 1 }, right: { op: 'num', value: 4 } }, [1])];
  return { version: 1, metrics: ['temperature'], attrs: [], strings: [], features, rules };
}

/** One device, steps of 0 to 5 s (mostly about a bucket: 10 and more of the 16 buckets occupied), a few late. */
const arbDenseSteps = (): fc.Arbitrary<Step[]> => fc.array(fc.record({
  slot: fc.constant(0),
  dt: fc.oneof({ arbitrary: fc.constantFrom(0, 100, 150, 200, 250, 250, 300, 350), weight: 40 }, { arbitrary: fc.constantFrom(2_500, 5_000), weight: 1 }),
  back: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 300, 900),
  value: fc.integer({ min: 0, max: 11 }),
}), { minLength: 30, maxLength: 150 }).map((raw) => {
  let clock = BASE_TS;
  return raw.map((r): Step => {
    clock += r.dt;
    return { kind: 'event', slot: r.slot, metric: 0, ts: clock - r.back, value: r.value, now: clock + 5 };
  });
});

describe('compiled rule evaluator vs the interpreter', () => {
  it('random rule sets, streams and switches give the same records and the same kernel memory', () => {
    fc.assert(fc.property(arbDrafts(), arbSteps({ withSwitch: true }), fc.integer({ min: 1, max: 8 }), (drafts, steps, batch) => {
      expect(run(drafts, steps, batch, 64 * 1024)).toBeNull();
    }), { numRuns: 200 });
  });

  it('the same with a small outbox that stops batches early', () => {
    fc.assert(fc.property(arbDrafts(6), arbSteps({ withSwitch: true }), (drafts, steps) => {
      expect(run(drafts, steps, 16, 4096)).toBeNull();
    }), { numRuns: 100 });
  });

  it('the compiled cache upkeep of sliding groups leaves the bytes the kernel does, extremes leaving the window included', () => {
    fc.assert(fc.property(arbSlidingSteps(), fc.integer({ min: 1, max: 8 }), (steps, batch) => {
      expect(runSpec(slidingSpec(), steps, batch, 64 * 1024, () => { throw new Error('no switches here'); })).toBeNull();
    }), { numRuns: 300 });
  });

  it('the same for small windows read by every evaluation, with events late into earlier buckets', () => {
    fc.assert(fc.property(arbLateSteps(), fc.integer({ min: 1, max: 8 }), (steps, batch) => {
      expect(runSpec(smallWindowsSpec(), steps, batch, 64 * 1024, () => { throw new Error('no switches here'); })).toBeNull();
    }), { numRuns: 300 });
  });

  it('the same for a window with more occupied buckets than its value FIFO holds', () => {
    fc.assert(fc.property(arbDenseSteps(), fc.integer({ min: 1, max: 8 }), (steps, batch) => {
      expect(runSpec(fifoSpec(), steps, batch, 64 * 1024, () => { throw new Error('no switches here'); })).toBeNull();
    }), { numRuns: 300 });
  });

  it('compiles a program with rules into a valid module, and none for a program without', () => {
    const spec = buildSpec([{ when: { op: '>', left: { op: 'feature', index: 1 }, right: { op: 'num', value: 5 } }, clear: null, forMs: 0, cooldownMs: 0, match: [] }], 1);
    const withRules = new KernelDriver(spec);
    const bytes = compileRulesModule(withRules.memory);
    expect(bytes).not.toBeNull();
    expect(() => new WebAssembly.Module(bytes!)).not.toThrow();
    // the evaluator and the cache upkeep the kernel's table takes; the groups' sync functions stay internal
    // (Node's types do not declare WebAssembly.Module.exports)
    const exportsOf = (WebAssembly.Module as unknown as { exports(m: WebAssembly.Module): Array<{ name: string }> }).exports;
    expect(exportsOf(new WebAssembly.Module(bytes!)).map((e) => e.name).sort()).toEqual(['evaluate', 'upkeep']);
    const none = new KernelDriver({ ...spec, rules: [] });
    expect(compileRulesModule(none.memory)).toBeNull();
  });

  it('a program the compiler cannot take runs interpreted, with a warning, and the engine goes on', async () => {
    const spec = buildSpec([{ when: { op: '>', left: { op: 'feature', index: 0 }, right: { op: 'num', value: 5 } }, clear: null, forMs: 0, cooldownMs: 0, match: [] }], 1);
    const d = new KernelDriver(spec);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => { warnings.push(w.message); };
    process.on('warning', onWarning);
    try {
      // the same program as epoch 2 with an unknown opcode in its `when` code: the compiler
      // refuses the program; the interpreter decides this rule from its row atoms
      const bytes = encodeProgram(spec, 2, spec);
      const v = new DataView(bytes.buffer);
      const rules = v.getUint32(P_RULES_OFF, true);
      v.setUint32(rules + v.getUint32(rules + RULES_HEADER_BYTES + RR_WHEN, true), 99, true);
      writeProgram(d.memory, 1, bytes);
      d.k.switchProgram(1);
      const out = d.apply([{ slot: 0, metric: 0, ts: 1_763_800_000_000, value: 9 }], 1_763_800_000_010);
      expect(out.map((t) => [t.rule, t.state, t.values])).toEqual([[0, STATE_FIRED, [9]]]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.some((m) => /epoch 2 run interpreted: rules compiler: unknown opcode 99/.test(m))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
