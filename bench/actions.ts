// Action stream benchmarks: action-log append throughput against a plain lmdb put loop of
// the same bytes, and the latency from a transition reaching the main thread to the record
// arriving on a real ws subscriber (in a worker thread, its own event loop) under a fire
// storm. Run: `node dist/bench/actions.js [--quick]`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { open } from 'lmdb';
import uWS from 'uWebSockets.js';
import WebSocket from 'ws';
import { ActionService } from '../src/actions/action-service.js';
import { encodeRecord, publicRecord } from '../src/actions/record-codec.js';
import type { ActionRecordInput } from '../src/actions/types.js';
import { listenApp } from '../src/ops/listen.js';
import type { BenchRow } from './lib/row.js';

/** Appends in flight at once: the engine does not wait for one before the next either. */
const IN_FLIGHT = 32;

const nowHr = () => performance.timeOrigin + performance.now();

function transition(i: number, t0 = 0): ActionRecordInput {
  return {
    ts: 1763805600000 + i,
    rule: 'too-hot',
    version: 1,
    device: `th-${i}`,
    state: 'fired',
    values: { 'avg(temperature, 5m)': 81.2 + (i % 10), 'device.setpoint': 76, t0 },
    actions: ['notify-owner'],
    attrs: { type: 'thermostat', owner: `owner-${i % 97}`, setpoint: 76 },
  };
}

/** Appends `total` records in dispatcher-sized batches, a few in flight; records/s. */
async function appendThroughput(total: number, batch: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'damper-bench-actions-'));
  const root = open({ path: dir });
  const service = new ActionService({ root });
  try {
    const inputs = Array.from({ length: batch }, (_, i) => transition(i));
    const t = performance.now();
    const inFlight: Promise<unknown>[] = [];
    for (let done = 0; done < total; done += batch) {
      inFlight.push(service.append(inputs));
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    }
    await Promise.all(inFlight);
    return total / ((performance.now() - t) / 1000);
  } finally {
    await service.close();
    await root.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same bytes written by plain db.put in the same batches: what lmdb alone costs. */
async function plainPutThroughput(total: number, batch: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'damper-bench-lmdb-'));
  const root = open({ path: dir });
  const db = root.openDB<Buffer, number>({ name: 'plain', encoding: 'binary' });
  try {
    const time = new Date().toISOString();
    const bytes = Array.from({ length: batch }, (_, i) => encodeRecord(publicRecord(i + 1, time, transition(i))));
    const t = performance.now();
    const inFlight: Promise<unknown>[] = [];
    let seq = 0;
    for (let done = 0; done < total; done += batch) {
      let last: Promise<boolean> | undefined;
      for (let i = 0; i < batch; i++) last = db.put(++seq, bytes[i]!);
      const written = last!;
      // Durable like append: committed and flushed.
      inFlight.push(new Promise((resolve, reject) => root.flushed.then(() => resolve(written), reject)));
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    }
    await Promise.all(inFlight);
    return total / ((performance.now() - t) / 1000);
  } finally {
    await root.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface StormResult {
  p50: number;
  p99: number;
  max: number;
  /** Longest time from handing a shard batch over to `append` resolving (encoded, written, fsync'd). */
  durable: number;
}

/** Fire storms of `devices` transitions, split over `shards` appends, to a ws subscriber. */
async function fireStorm(devices: number, shards: number, storms: number): Promise<StormResult> {
  const dir = mkdtempSync(join(tmpdir(), 'damper-bench-storm-'));
  const root = open({ path: dir });
  const service = new ActionService({ root });
  const app = uWS.App();
  service.mount(app, { authorize: () => true });
  const listening = await listenApp(app, '127.0.0.1', 0);
  const worker = new Worker(fileURLToPath(import.meta.url), {
    workerData: { role: 'subscriber', url: `ws://127.0.0.1:${listening.port}/v1/actions`, expect: devices * storms, skip: devices },
  });
  try {
    const ready = new Promise<void>((resolve) => worker.once('message', () => resolve()));
    const result = new Promise<number[]>((resolve, reject) => {
      worker.on('message', (m: { latencies?: number[] }) => m.latencies && resolve(m.latencies));
      worker.once('error', reject);
    });
    await ready;
    const per = Math.ceil(devices / shards);
    let durable = 0;
    // Storm 0 warms the JIT and lmdb's map; the subscriber does not count it.
    for (let s = 0; s <= storms; s++) {
      const appends: Promise<unknown>[] = [];
      for (let k = 0; k < shards; k++) {
        // Each shard's transitions as the dispatcher would hand them over, stamped when handed.
        const t0 = nowHr();
        const inputs = Array.from({ length: per }, (_, i) => transition(k * per + i, t0));
        appends.push(service.append(inputs).then(() => (durable = Math.max(durable, nowHr() - t0))));
      }
      await Promise.all(appends);
      if (s === 0) durable = 0;
      await new Promise((r) => setTimeout(r, 200));
    }
    const lat = (await result).sort((a, b) => a - b);
    const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
    return { p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1]!, durable };
  } finally {
    await worker.terminate();
    await service.close();
    listening.close();
    await root.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function runSubscriber(url: string, expect: number, skip: number): void {
  const latencies: number[] = [];
  let skipped = 0;
  const ws = new WebSocket(url);
  ws.on('open', () => parentPort!.postMessage({ ready: true }));
  ws.on('message', (data: Buffer) => {
    const rec = JSON.parse(data.toString('utf8')) as { values: { t0: number } };
    if (skipped < skip) {
      skipped++;
      return;
    }
    latencies.push(nowHr() - rec.values.t0);
    if (latencies.length === expect) {
      parentPort!.postMessage({ latencies });
      ws.close();
    }
  });
}

export async function runActionsBench(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const total = opts.quick ? 20_000 : 200_000;
  const batch = 256;
  // Warm up both paths once so the JIT and lmdb's map do not favour either.
  await plainPutThroughput(batch * 8, batch);
  await appendThroughput(batch * 8, batch);
  // Interleaved repetitions, best of each: the machine is shared and noisy.
  let plain = 0;
  let append = 0;
  for (let r = 0; r < (opts.quick ? 1 : 3); r++) {
    plain = Math.max(plain, await plainPutThroughput(total, batch));
    append = Math.max(append, await appendThroughput(total, batch));
  }
  const storm = await fireStorm(10_000, 4, opts.quick ? 1 : 5);
  return [
    {
      scenario: 'action-log append',
      metric: 'records/s',
      value: Math.round(append),
      unit: 'records/s',
      baseline: 'plain lmdb put of the same bytes',
      baselineValue: Math.round(plain),
      ratio: append / plain,
      note: `${total} records in batches of ${batch}, ${IN_FLIGHT} batches in flight, durable before resolve`,
    },
    {
      scenario: 'fire storm 10k devices → ws subscriber',
      metric: 'p99 transition→socket',
      value: Number(storm.p99.toFixed(2)),
      unit: 'ms',
      note: `p50 ${storm.p50.toFixed(2)} ms, max ${storm.max.toFixed(2)} ms, durable (append resolved) after ≤ ${storm.durable.toFixed(1)} ms; 4 shard batches of 2500, JSON subscriber in a worker thread`,
    },
  ];
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'subscriber') {
  const { url, expect, skip } = workerData as { url: string; expect: number; skip: number };
  runSubscriber(url, expect, skip);
} else if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await runActionsBench({ quick: process.argv.includes('--quick') });
  console.table(rows.map((r) => ({ scenario: r.scenario, metric: r.metric, value: r.value, unit: r.unit, baseline: r.baselineValue ?? '', ratio: r.ratio?.toFixed(2) ?? '', note: r.note ?? '' })));
}
