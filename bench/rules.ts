// `npm run bench:rules`: kernel events/s with 0 (features only), 1, 10 and 100 rules over
// the same shared features, the cost per rule per event, and the ratio 10 rules / features
// only (target ≤ 2×, on the default sparse stream; features only and 10 rules are also
// measured on a dense stream), and 10 rules compiled (the default) against the same rules
// interpreted. Prints a table and writes bench/results/rules-<ts>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as L from '../assembly/layout.js';
import { createShardMemory } from '../src/kernel/memory.js';
import { instantiateKernel, type KernelExports, type KernelOptions } from '../src/kernel/kernel.js';
import { encodeProgram, writeProgram } from '../src/kernel/program.js';
import { FeatureFn, type Expr, type FeatureSpec, type ProgramSpec, type RuleSpec } from '../src/kernel/program-spec.js';
import type { BenchRow } from './lib/row.js';
import { textTable } from './lib/table.js';

const DEVICES = Number(process.env.DAMPER_BENCH_DEVICES ?? 10_000);
// Event time between consecutive events of the whole stream: 5 ms over 10,000 devices is one
// event per device every ~50 s (sparse, the default and the target's stream); 0.1 ms is one
// per second (dense, measured too for features only and 10 rules unless the step is set).
export const STEP_MS = Number(process.env.DAMPER_BENCH_STEP_MS ?? 5);
export const DENSE_STEP_MS = 0.1;
const BATCH = 1_000;
const T0 = 1_763_800_000_000;
const RULE_COUNTS = [0, 1, 10, 100];

/** The four shared features every rule set reads (the kernel bench's "4 features"). */
const FEATURES: FeatureSpec[] = [
  { fn: FeatureFn.Avg, metric: 0, windowMs: 300_000, bucketMs: 15_000, halfLifeMs: 0, canonical: 'avg(temperature, 5m)' },
  { fn: FeatureFn.Max, metric: 0, windowMs: 300_000, bucketMs: 15_000, halfLifeMs: 0, canonical: 'max(temperature, 5m)' },
  { fn: FeatureFn.Last, metric: 0, windowMs: 0, bucketMs: 0, halfLifeMs: 0, canonical: 'last(temperature)' },
  { fn: FeatureFn.Rate, metric: 1, windowMs: 60_000, bucketMs: 3_000, halfLifeMs: 0, canonical: 'rate(errors, 1m)' },
];

const num = (value: number): Expr => ({ op: 'num', value });
const feat = (index: number): Expr => ({ op: 'feature', index });

/** Rule i: a threshold on one feature, every third with a second condition, some with for/cooldown. */
function benchRule(i: number): RuleSpec {
  const f = i % FEATURES.length;
  const threshold = f === 3 ? 0.5 + (i % 7) * 0.1 : 24 + (i % 9);
  let when: Expr = { op: '>', left: feat(f), right: num(threshold) };
  if (i % 3 === 2) when = { op: 'and', left: when, right: { op: '<', left: feat((f + 1) % FEATURES.length), right: { op: '+', left: { op: 'attr', attr: 0 }, right: num(40) } } };
  const forMs = i % 4 === 1 ? 60_000 : 0;
  const cooldownMs = i % 5 === 4 ? 600_000 : 0;
  const key = JSON.stringify([when, forMs, cooldownMs]);
  const reads = [{ kind: 'feature' as const, index: f }];
  if (i % 3 === 2) reads.push({ kind: 'feature', index: (f + 1) % FEATURES.length });
  return { id: `r${i}`, key, when, clear: null, forMs, cooldownMs, usesAge: false, match: [], reads, actions: [] };
}

export function spec(rules: number): ProgramSpec {
  return {
    version: 1, metrics: ['temperature', 'errors'], attrs: ['setpoint'], strings: [],
    features: FEATURES, rules: Array.from({ length: rules }, (_, i) => benchRule(i)),
  };
}

/** A seeded stream: thermostats drifting around 22 °C with rare spikes, 1 event in 10 an error. */
export function makeBatches(count: number, stepMs: number): Float64Array[] {
  let seed = 42;
  // 32-bit LCG (as bench/kernel.ts); an earlier f64 version lost bits above 2^53 and cycled
  // after 10,466 draws, which touched only 4,829 of the 10,000 devices with 3-value cycles
  const rnd = (): number => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
  const batches: Float64Array[] = [];
  let ts = T0;
  for (let b = 0; b < count; b++) {
    const a = new Float64Array(BATCH * 4);
    for (let i = 0; i < BATCH; i++) {
      ts += stepMs;
      a[i * 4] = Math.floor(rnd() * DEVICES);
      a[i * 4 + 1] = rnd() < 0.1 ? 1 : 0;
      a[i * 4 + 2] = ts;
      a[i * 4 + 3] = 22 + rnd() * 4 + (rnd() < 0.01 ? 15 : 0);
    }
    batches.push(a);
  }
  return batches;
}

/** `shift`: added to every ts, so that replaying the batches moves forward in time. */
function writeBatch(memory: WebAssembly.Memory, base: number, a: Float64Array, shift: number): void {
  const dv = new DataView(memory.buffer);
  for (let i = 0; i < BATCH; i++) {
    const p = base + i * L.BATCH_EVENT_BYTES;
    dv.setUint32(p + L.BE_SLOT, a[i * 4], true);
    dv.setUint32(p + L.BE_METRIC, a[i * 4 + 1], true);
    dv.setFloat64(p + L.BE_TS, a[i * 4 + 2] + shift, true);
    dv.setFloat64(p + L.BE_VALUE, a[i * 4 + 3], true);
  }
}

export interface Config {
  name: string;
  rules: number;
  k: KernelExports;
  memory: WebAssembly.Memory;
  batchBase: number;
  cpuNs: number;
  events: number;
}

/** Encodes a program for the kernel (this checkout's encodeProgram unless a build says otherwise). */
export type ProgramEncoder = (spec: ProgramSpec, epoch: number, prev: ProgramSpec | null) => Uint8Array;

/**
 * One kernel instance running `program` over the bench fleet: by default build/damper.wasm,
 * this checkout's encoder and its kernel host (instantiateKernel, with its rules compiler);
 * bench/rules-ab.ts passes another build's.
 */
export function setup(
  name: string, program: ProgramSpec, module?: WebAssembly.Module, encode: ProgramEncoder = encodeProgram, opts: KernelOptions = {},
  instantiate: typeof instantiateKernel = instantiateKernel,
): Config {
  const { memory, layout } = createShardMemory({ ringBytes: 4096, batchEvents: BATCH, outboxBytes: 1 << 20, initialArenaPages: 512 });
  const k = instantiate(memory, module, opts);
  writeProgram(memory, 0, encode(program, 1, null));
  k.switchProgram(0);
  const dv = new DataView(memory.buffer);
  for (let slot = 0; slot < DEVICES; slot++) {
    dv.setUint32(layout.scratchBase + L.AE_ID, 0, true);
    dv.setUint32(layout.scratchBase + L.AE_KIND, L.ATTR_NUMBER, true);
    dv.setFloat64(layout.scratchBase + L.AE_VALUE, 20, true);
    k.setAttrs(slot, layout.scratchBase, 1);
  }
  return { name, rules: program.rules.length, k, memory, batchBase: layout.batchBase, cpuNs: 0, events: 0 };
}

/** One batch through one kernel; returns the CPU time of the kernel calls in ns. */
function runBatch(c: Config, a: Float64Array, shift: number): number {
  writeBatch(c.memory, c.batchBase, a, shift);
  const out = new DataView(c.memory.buffer);
  const t = process.cpuUsage();
  let i = 0;
  while (i < BATCH) {
    i = c.k.applyBatch(i, BATCH, T0);
    out.setInt32(L.HEADER_BASE + L.H_OUT_LEN, 0, true);
  }
  const d = process.cpuUsage(t);
  return (d.user + d.system) * 1000;
}

/** Rules that read only `last`: the VM's own cost without window scans. */
export function lastOnly(n: number): ProgramSpec {
  const p = spec(n);
  return { ...p, rules: p.rules.map((r, i) => ({ ...r, key: `last-${i}`, when: { op: '>', left: feat(2), right: num(30 + (i % 9)) }, reads: [{ kind: 'feature' as const, index: 2 }] })) };
}

/**
 * Every configuration gets the same batches, interleaved batch by batch (the order rotating
 * from round to round), and is timed in CPU time: on a shared machine wall time measures
 * the neighbours more than the kernel.
 */
export function measure(configs: Config[], stepMs: number, quick: boolean): void {
  const batches = makeBatches(quick ? 60 : 200, stepMs);
  // the first pass over the batches is warm-up (every device gets its state and its windows
  // fill: one pass is 1,000 s of event time against 5-minute windows; the JIT settles); the
  // passes after it are measured. Measuring from round 30 on, as before 2026-12-05, took
  // filling windows (fewer slides, take-outs and merges) into the figures: a 10-rule ratio
  // of 1.94–2.16× where steady state gives 2.2×.
  const warm = batches.length;
  const rounds = warm + (quick ? 90 : Number(process.env.DAMPER_BENCH_ROUNDS ?? 600));
  // each replay of the batches is shifted past the previous one: replaying the same
  // timestamps would make most events late and freeze every device clock
  const span = batches.length * BATCH * stepMs;
  for (let b = 0; b < rounds; b++) {
    const shift = Math.floor(b / batches.length) * span;
    // each round starts one configuration later: identical kernels measured 5–12% slower in
    // the first place of a round than in the last, which favoured whatever ran late
    for (let j = 0; j < configs.length; j++) {
      const c = configs[(j + b) % configs.length];
      const ns = runBatch(c, batches[b % batches.length], shift);
      if (b >= warm) { c.cpuNs += ns; c.events += BATCH; }
    }
  }
}

/** Rows of one measured set; `suffix` names the stream in every metric but the first run's. */
function rowsOf(configs: Config[], stepMs: number, suffix: string): BenchRow[] {
  const nsPerEvent = (c: Config): number => c.cpuNs / c.events;
  const transitions = (c: Config): number => new DataView(c.memory.buffer).getFloat64(L.HEADER_BASE + L.H_TRANSITIONS, true);
  const base = configs[0];
  const nsBase = nsPerEvent(base);
  const rows: BenchRow[] = [{
    scenario: 'rules', metric: `kernel events/s, features only (4 features)${suffix}`, value: Math.round(1e9 / nsBase), unit: 'ev/s',
    note: `${DEVICES} devices, batches of ${BATCH}, one event every ${stepMs} ms of event time (per device every ${(DEVICES * stepMs / 1000).toFixed(1)} s), CPU time, ${base.events} events per configuration after a warm-up pass over the batches (windows full)`,
  }];
  for (const c of configs.slice(1)) {
    const ns = nsPerEvent(c);
    rows.push({
      scenario: 'rules', metric: `kernel events/s, ${c.name}${suffix}`, value: Math.round(1e9 / ns), unit: 'ev/s',
      baseline: `features only${suffix}`, baselineValue: Math.round(1e9 / nsBase), ratio: Number((ns / nsBase).toFixed(2)),
      target: c.name === '10 rules' && suffix === '' ? 'time ≤ 2× features only' : undefined,
      note: `${transitions(c)} transitions; ratio = time per event / features only`,
    });
    rows.push({ scenario: 'rules', metric: `cost per rule per event, ${c.name}${suffix}`, value: Number(((ns - nsBase) / c.rules).toFixed(1)), unit: 'ns' });
  }
  return rows;
}

export async function runRulesBench(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const quick = opts.quick ?? false;
  const configs = (): Config[] => [
    ...RULE_COUNTS.map((n) => setup(n === 0 ? 'features only' : `${n} rule${n > 1 ? 's' : ''}`, spec(n))),
    setup('10 rules over last() only', lastOnly(10)),
  ];
  const sparse = configs();
  measure(sparse, STEP_MS, quick);
  const rows = rowsOf(sparse, STEP_MS, '');
  if (process.env.DAMPER_BENCH_STEP_MS === undefined) {
    // the same set of kernels, fresh, on a dense stream (windows hit their cache on most
    // events); all five run, so that they share the caches as on the sparse stream
    const dense = configs();
    measure(dense, DENSE_STEP_MS, quick);
    rows.push(...rowsOf(dense, DENSE_STEP_MS, ' (dense)').filter((r) => /features only \(4|, 1 rule |, 10 rules \(dense\)/.test(`${r.metric} `)));
  }
  // the rule compiler's own gain: the same 10 rules through the kernel's interpreter, the
  // two kernels alone and interleaved on the sparse stream (docs/rule-vm.md, Compiled rules)
  const vm = [setup('10 rules (compiled)', spec(10)), setup('10 rules (interpreted)', spec(10), undefined, encodeProgram, { rulesJit: false })];
  measure(vm, STEP_MS, quick);
  const ns = vm.map((c) => c.cpuNs / c.events);
  rows.push({
    scenario: 'rules', metric: 'kernel events/s, 10 rules interpreted', value: Math.round(1e9 / ns[1]), unit: 'ev/s',
    baseline: '10 rules compiled', baselineValue: Math.round(1e9 / ns[0]), ratio: Number((ns[1] / ns[0]).toFixed(2)),
    note: `DAMPER_RULES_JIT=0 against the default; ratio = time per event interpreted / compiled; these two kernels interleaved alone, sparse stream`,
  });
  return rows;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const quick = process.argv.includes('--quick');
  const rows = await runRulesBench({ quick });
  process.stdout.write(textTable(rows) + '\n');
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `rules-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ timestamp: new Date().toISOString(), quick, rows }, null, 2) + '\n');
  process.stdout.write(`wrote ${file}\n`);
}
