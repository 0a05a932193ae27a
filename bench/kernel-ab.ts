// A/B of two kernel builds on bench:kernel's workload (avg, max, deriv and rate of one
// metric, devices drawn at random, ~1 s of event time per device event), in one process.
// Separate bench:kernel runs on this shared machine move by ±10–15% and so does their TS
// port baseline; this runs both builds over the same timeline, one after the other in an
// order that alternates from run to run, and prints the geometric mean of B/A.
//
//   node dist/bench/kernel-ab.js A.wasm|A-checkout B.wasm|B-checkout [--devices 10000] [--runs 8]
//
// A side given as a directory is a built checkout (`git worktree add`, `npm run build`); its
// build/damper.wasm runs with this checkout's program encoder and host (the program format
// and layout must not differ between the two).
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { encodeProgram } from '../src/kernel/program.js';
import { BATCH, benchSpec, bestNs, makeEvents, wasmKernel } from './kernel.js';
import { abSides, arg } from './lib/ab-args.js';

const [pathA, pathB] = abSides('node dist/bench/kernel-ab.js A.wasm|A-checkout B.wasm|B-checkout [--devices 10000] [--runs 8]');
const wasmOf = (p: string): string => (statSync(p).isDirectory() ? path.resolve(p, 'build/damper.wasm') : p);
const modules = [pathA, pathB].map((p) => new WebAssembly.Module(readFileSync(wasmOf(p))));
const devices = Number(arg('--devices', '10000'));
const runs = Number(arg('--runs', '8'));

// as bench:kernel: ~10 events per device of warm-up, then the timed part (here 3× longer)
const warm = Math.max(20, (devices * 10) / BATCH);
const timed = Math.max(900, (devices * 15) / BATCH);
const events = makeEvents(devices, (warm + timed) * BATCH);
const program = encodeProgram(benchSpec(), 1, null);

/** CPU ns per event of one fresh kernel of `module` over the timed batches. */
const nsPerEvent = (module: WebAssembly.Module): number => bestNs(() => wasmKernel(events, program, module).run, warm, warm + timed, 1);

process.stdout.write(`A = ${pathA}\nB = ${pathB}\n${devices} devices, ${timed * BATCH} timed events per side and run\n`);
nsPerEvent(modules[0]); // JIT of both modules' hot functions, untimed
nsPerEvent(modules[1]);
let logRatio = 0;
for (let run = 1; run <= runs; run++) {
  const ns = [0, 0];
  for (const i of run % 2 === 1 ? [0, 1] : [1, 0]) ns[i] = nsPerEvent(modules[i]);
  logRatio += Math.log(ns[1] / ns[0]);
  process.stdout.write(`run ${String(run).padStart(2)} (${run % 2 === 1 ? 'A' : 'B'} first): A ${ns[0].toFixed(1)} ns/ev  B ${ns[1].toFixed(1)} ns/ev  B/A ${(ns[1] / ns[0]).toFixed(3)}\n`);
}
process.stdout.write(`B/A, geometric mean over ${runs} runs: ${Math.exp(logRatio / runs).toFixed(3)}\n`);
