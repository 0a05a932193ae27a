// A/B of two kernel builds on bench:rules' workload, in one process: both builds run the
// same programs over the same batches, interleaved batch by batch and timed in CPU time, so
// a 3–10% change is visible on a machine whose separate runs vary by ±20%.
//
//   cp build/damper.wasm /tmp/a.wasm     # before the change
//   npm run build:wasm                   # after it
//   node dist/bench/rules-ab.js /tmp/a.wasm build/damper.wasm [--rules 0,10] [--runs 3] [--dense] [--quick]
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

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const [pathA, pathB] = process.argv.slice(2, 4);
if (!pathA || !pathB || pathA.startsWith('--') || pathB.startsWith('--')) {
  process.stderr.write('usage: node dist/bench/rules-ab.js A.wasm|A-checkout B.wasm|B-checkout [--rules 0,10] [--runs 3] [--dense] [--quick]\n');
  process.exit(2);
}

interface Build { module: WebAssembly.Module; encode?: ProgramEncoder; instantiate?: typeof instantiateKernel }

async function load(p: string): Promise<Build> {
  if (!statSync(p).isDirectory()) return { module: new WebAssembly.Module(readFileSync(p)) };
  const program = await import(pathToFileURL(path.resolve(p, 'dist/src/kernel/program.js')).href) as { encodeProgram: ProgramEncoder };
  const kernel = await import(pathToFileURL(path.resolve(p, 'dist/src/kernel/kernel.js')).href) as { instantiateKernel: typeof instantiateKernel };
  return { module: new WebAssembly.Module(readFileSync(path.resolve(p, 'build/damper.wasm'))), encode: program.encodeProgram, instantiate: kernel.instantiateKernel };
}

const builds = [await load(pathA), await load(pathB)];
const ruleCounts = arg('--rules', '0,10').split(',').map(Number);
const runs = Number(arg('--runs', '3'));
const stepMs = process.argv.includes('--dense') ? DENSE_STEP_MS : STEP_MS;
const quick = process.argv.includes('--quick');

const nsPerEvent = (c: Config): number => c.cpuNs / c.events;
const fmt = (x: number): string => x.toFixed(1).padStart(7);

process.stdout.write(`A = ${pathA}\nB = ${pathB}\nstream: one event every ${stepMs} ms of event time\n`);
for (let run = 1; run <= runs; run++) {
  // A and B of each rule count side by side, so both see the same cache pressure
  const configs: Config[] = [];
  for (const n of ruleCounts) for (const [i, b] of builds.entries()) configs.push(setup(`${'AB'[i]} ${n}`, spec(n), b.module, b.encode, {}, b.instantiate));
  measure(configs, stepMs, quick);
  const lines = [`run ${run}:  rules      A ns/ev  B ns/ev   B/A`];
  for (let j = 0; j < ruleCounts.length; j++) {
    const a = nsPerEvent(configs[2 * j]), b = nsPerEvent(configs[2 * j + 1]);
    lines.push(`        ${String(ruleCounts[j]).padStart(9)}  ${fmt(a)}  ${fmt(b)}  ${(b / a).toFixed(3)}`);
  }
  const base = ruleCounts.indexOf(0);
  if (base >= 0) {
    for (let j = 0; j < ruleCounts.length; j++) {
      if (j === base) continue;
      const r = (k: number): string => (nsPerEvent(configs[2 * j + k]) / nsPerEvent(configs[2 * base + k])).toFixed(2);
      lines.push(`        ${ruleCounts[j]} rules / features only: A ${r(0)}x  B ${r(1)}x`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}
