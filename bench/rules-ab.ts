// A/B of two kernel builds on bench:rules' workload, in one process: both builds run the
// same programs over the same batches, interleaved batch by batch and timed in CPU time, so
// a 3–10% change is visible on a machine whose separate runs vary by ±20%.
//
//   cp build/damper.wasm /tmp/a.wasm     # before the change
//   npm run build:wasm                   # after it
//   node dist/bench/rules-ab.js /tmp/a.wasm build/damper.wasm [--rules 0,10] [--runs 8] [--dense] [--quick]
//
// A side given as a directory is a built checkout (a `git worktree` of another commit, after
// `npm run build`): its build/damper.wasm with its own program encoder (dist/src/kernel/
// program.js) and its own kernel host and rules compiler (dist/src/kernel/kernel.js), for
// changes of the device layout, the program format or the compiled rules. A side given as
// a .wasm file runs with this checkout's encoder and compiler.
// Prints, per run, ns per event of each build and configuration, B/A, and each build's
// ratio of every rule count to its own features-only configuration (bench:rules' ratio).
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { instantiateKernel } from '../src/kernel/kernel.js';
import { DENSE_STEP_MS, STEP_MS, measure, setup, spec, type Config, type ProgramEncoder } from './rules.js';
import { abSides, arg } from './lib/ab-args.js';

const [pathA, pathB] = abSides('node dist/bench/rules-ab.js A.wasm|A-checkout B.wasm|B-checkout [--rules 0,10] [--runs 8] [--dense] [--quick]');

interface Build { module: WebAssembly.Module; encode?: ProgramEncoder; instantiate?: typeof instantiateKernel }

async function load(p: string): Promise<Build> {
  if (!statSync(p).isDirectory()) return { module: new WebAssembly.Module(readFileSync(p)) };
  const program = await import(pathToFileURL(path.resolve(p, 'dist/src/kernel/program.js')).href) as { encodeProgram: ProgramEncoder };
  const kernel = await import(pathToFileURL(path.resolve(p, 'dist/src/kernel/kernel.js')).href) as { instantiateKernel: typeof instantiateKernel };
  return { module: new WebAssembly.Module(readFileSync(path.resolve(p, 'build/damper.wasm'))), encode: program.encodeProgram, instantiate: kernel.instantiateKernel };
}

const builds = [await load(pathA), await load(pathB)];
const ruleCounts = arg('--rules', '0,10').split(',').map(Number);
const runs = Number(arg('--runs', '8'));
const stepMs = process.argv.includes('--dense') ? DENSE_STEP_MS : STEP_MS;
const quick = process.argv.includes('--quick');

const nsPerEvent = (c: Config): number => c.cpuNs / c.events;
const fmt = (x: number): string => x.toFixed(1).padStart(7);

process.stdout.write(`A = ${pathA}\nB = ${pathB}\nstream: one event every ${stepMs} ms of event time\n`);
// log(B/A) per rule count, summed over runs (the geometric mean at the end)
const logRatio = ruleCounts.map(() => 0);
for (let run = 1; run <= runs; run++) {
  // A and B of each rule count side by side, so both see the same cache pressure. Which of
  // the two comes first alternates from run to run: measure() keeps the configurations'
  // cyclic order, so the second of a pair always runs right after the first with the same
  // rules, and it tends to win: one build against itself (or against a copy of itself),
  // the second of the pair was the faster with 10 rules in 20 of 24 runs, by about 3%
  // (2026-12-05, fifth session; features only showed no such lean). Before, A always went
  // first, which favoured B. Alternating cancels it over an even number of runs.
  const order = run % 2 === 1 ? [0, 1] : [1, 0];
  const configs: Config[][] = ruleCounts.map(() => []);
  for (const [j, n] of ruleCounts.entries()) {
    for (const i of order) configs[j][i] = setup(`${'AB'[i]} ${n}`, spec(n), builds[i].module, builds[i].encode, {}, builds[i].instantiate);
  }
  measure(ruleCounts.flatMap((_, j) => order.map((i) => configs[j][i])), stepMs, quick);
  const lines = [`run ${run} (${order[0] === 0 ? 'A' : 'B'} first):  rules      A ns/ev  B ns/ev   B/A`];
  for (let j = 0; j < ruleCounts.length; j++) {
    const a = nsPerEvent(configs[j][0]), b = nsPerEvent(configs[j][1]);
    logRatio[j] += Math.log(b / a);
    lines.push(`        ${String(ruleCounts[j]).padStart(9)}  ${fmt(a)}  ${fmt(b)}  ${(b / a).toFixed(3)}`);
  }
  const base = ruleCounts.indexOf(0);
  if (base >= 0) {
    for (let j = 0; j < ruleCounts.length; j++) {
      if (j === base) continue;
      const r = (k: number): string => (nsPerEvent(configs[j][k]) / nsPerEvent(configs[base][k])).toFixed(2);
      lines.push(`        ${ruleCounts[j]} rules / features only: A ${r(0)}x  B ${r(1)}x`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}
const mean = ruleCounts.map((n, j) => `${n} rules ${Math.exp(logRatio[j] / runs).toFixed(3)}`).join(', ');
process.stdout.write(`B/A, geometric mean over ${runs} runs${runs % 2 === 1 ? ' (odd: A went first once more than B)' : ''}: ${mean}\n`);
