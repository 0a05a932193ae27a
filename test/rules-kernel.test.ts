// The rule VM inside the real WASM kernel against the reference rule engine (SPEC §4.3):
// random rule sets and streams must produce the same transitions, record for record.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { STATE_FIRED } from '../assembly/layout.js';
import { createReferenceEngine, type ReferenceEngine, type Transition } from '../src/reference/index.js';
import type { ProgramSpec } from '../src/kernel/program-spec.js';
import { DEVICES, arbDrafts, arbSteps, buildSpec, switchDrafts, type RuleDraft, type Step } from './rules-kernel-arb.js';
import { KernelDriver, diffTransitions, type BatchEvent } from './rules-kernel-driver.js';

const reference = (spec: ProgramSpec): ReferenceEngine => createReferenceEngine(spec);

/**
 * Runs the steps through both; consecutive events go into one kernel batch of up to
 * `batch` events (all at the batch's wall clock). Returns the first disagreement.
 */
const seen = { fired: 0, cleared: 0, switches: 0, earlyStops: 0 };

function compare(drafts0: RuleDraft[], steps: Step[], batch: number, outboxBytes: number): string | null {
  let drafts = drafts0;
  const spec = buildSpec(drafts, 1);
  const kernel = new KernelDriver(spec, { outboxBytes });
  const ref = reference(spec);
  const kOut: Transition[] = [];
  const rOut: Transition[] = [];
  const states = (): string => {
    const a: number[] = [];
    const b: number[] = [];
    for (let slot = 0; slot < DEVICES; slot++) {
      for (let r = 0; r < ref.program.rules.length; r++) {
        a.push(kernel.k.ruleState(slot, r));
        b.push(ref.ruleState(slot, r));
      }
    }
    return JSON.stringify(a) === JSON.stringify(b) ? '' : `rule states: kernel ${JSON.stringify(a)} reference ${JSON.stringify(b)}`;
  };
  let pending: Array<Extract<Step, { kind: 'event' }>> = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const now = pending[pending.length - 1].now;
    kOut.push(...kernel.apply(pending.map((e): BatchEvent => e), now));
    for (const e of pending) rOut.push(...ref.apply(e.slot, e.metric, e.ts, e.value, now));
    pending = [];
  };
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (s.kind === 'event') {
      pending.push(s);
      if (pending.length < batch && steps[i + 1]?.kind === 'event') continue;
      flush();
    } else if (s.kind === 'attrs') {
      kernel.setAttrs(s.slot, s.attrs);
      ref.setAttrs(s.slot, s.attrs);
    } else if (s.kind === 'remove') {
      kernel.k.removeDevice(s.slot);
      ref.removeDevice(s.slot);
    } else if (s.kind === 'tick') {
      kOut.push(...kernel.tick(s.now));
      rOut.push(...ref.tick(s.now));
    } else {
      drafts = switchDrafts(drafts, s);
      const next = buildSpec(drafts, ref.version + 1);
      kernel.install(next);
      ref.switchProgram(next);
      seen.switches++;
    }
    const d = diffTransitions(kOut, rOut) ?? states();
    if (d) return `after step ${i} (${s.kind}): ${d}`;
  }
  if (kernel.transitionsCounter() !== kOut.length) return `H_TRANSITIONS ${kernel.transitionsCounter()} != ${kOut.length} records`;
  for (const t of kOut) seen[t.state === STATE_FIRED ? 'fired' : 'cleared']++;
  seen.earlyStops += kernel.earlyStops;
  return null;
}

describe('rule VM vs reference engine', () => {
  it('random rule sets and streams give the same transitions, one event per batch', () => {
    fc.assert(fc.property(arbDrafts(), arbSteps(), (drafts, steps) => {
      expect(compare(drafts, steps, 1, 64 * 1024)).toBeNull();
    }), { numRuns: 300 });
  });

  it('the same with events batched and a small outbox that forces early stops', () => {
    fc.assert(fc.property(arbDrafts(5), arbSteps({ maxLength: 80 }), fc.integer({ min: 2, max: 16 }), (drafts, steps, batch) => {
      expect(compare(drafts, steps, batch, 4096)).toBeNull();
    }), { numRuns: 200 });
  });

  it('the same across program switches (kept, changed, new and removed rules)', () => {
    fc.assert(fc.property(arbDrafts(), arbSteps({ withSwitch: true }), fc.integer({ min: 1, max: 8 }), (drafts, steps, batch) => {
      expect(compare(drafts, steps, batch, 64 * 1024)).toBeNull();
    }), { numRuns: 250 });
  });

  // Guards the generators: a property over streams that never fire or clear proves nothing.
  it('the generated cases exercised fires, clears, switches and early stops', () => {
    expect(seen.fired).toBeGreaterThan(300);
    expect(seen.cleared).toBeGreaterThan(150);
    expect(seen.switches).toBeGreaterThan(20);
    expect(seen.earlyStops).toBeGreaterThan(0);
  });
});
