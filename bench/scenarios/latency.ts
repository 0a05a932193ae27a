// Latency: event → action record on a subscriber socket, at 50% of the maximum applied
// rate measured by ws-ingest in this run, open loop. Marked events (metric `mark`, value
// ±n) fire and clear the bench's `latency-mark` rule; the record's `last(mark)` value
// names the probe, so each record is matched to its send time. The same probe on the
// idle engine, just before the load starts, is the baseline.
import path from 'node:path';
import { pack } from 'msgpackr';
import WebSocket from 'ws';
import hdr from 'hdr-histogram-js';
import { DIST, runNode, startEngine } from '../lib/child.js';
import { putThermostats } from '../lib/ingest.js';
import { RawWsClient } from '../../src/simulate/raw-ws.js';
import { wsFrame } from '../../src/simulate/frames.js';
import type { BenchRow } from '../lib/row.js';
import { bestIngest, ratio, type ScenarioContext } from './types.js';
import { benchRulesFile } from '../lib/rules-file.js';

const SCENARIO = 'latency';
const MARKERS = 20;

interface ProbeResult {
  hist: hdr.Histogram;
  sent: number;
  received: number;
}

async function probe(url: string, seconds: number, perSecond: number, seqBase: number): Promise<ProbeResult> {
  const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const sentAt = new Map<number, number>();
  let received = 0;
  const sub = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/actions?rule=latency-mark`, { perMessageDeflate: false });
  sub.on('message', (data: Buffer) => {
    const now = performance.now();
    try {
      const rec = JSON.parse(data.toString()) as { rule?: string; values?: Record<string, number> };
      const v = rec.values?.['last(mark)'];
      if (typeof v !== 'number') return;
      const at = sentAt.get(Math.abs(v));
      if (at === undefined) return;
      sentAt.delete(Math.abs(v));
      received++;
      hist.recordValue(Math.max(1, Math.round((now - at) * 1000)));
    } catch {
      // not a record
    }
  });
  await new Promise<void>((resolve, reject) => {
    sub.once('open', () => resolve());
    sub.once('error', reject);
  });
  const host = new URL(url);
  const markers = await Promise.all(
    Array.from({ length: MARKERS }, (_, i) =>
      RawWsClient.connect(
        { host: host.hostname, port: Number(host.port), path: `/v1/ingest?device=mark-${i}` },
        { onMessage: () => undefined, onClose: () => undefined },
      ),
    ),
  );
  // Open loop: a probe is due every 1/perSecond s whatever the replies do.
  const state = new Array<number>(MARKERS).fill(1);
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const elapsed = (performance.now() - t0) / 1000;
      if (elapsed >= seconds) return resolve();
      while (sent < Math.floor(elapsed * perSecond)) {
        const i = sent % MARKERS;
        const n = seqBase + sent + 1;
        const v = state[i] > 0 ? n : -n;
        state[i] = -state[i];
        sentAt.set(n, performance.now());
        markers[i].write(wsFrame(pack([[Date.now(), 'mark', v]])));
        sent++;
      }
      setTimeout(tick, 1);
    };
    tick();
  });
  const until = performance.now() + 3000;
  while (sentAt.size > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
  for (const m of markers) m.close();
  sub.close();
  return { hist, sent, received };
}

export async function run(ctx: ScenarioContext, rows: BenchRow[]): Promise<void> {
  const max = bestIngest(ctx.rows);
  const haveMax = max !== undefined && Number.isFinite(max) && max > 0;
  const rate = Math.round((haveMax ? max : 1_000_000) / 2);
  const devices = ctx.quick ? 200 : 1000;
  const loadS = ctx.quick ? 5 : 15;
  const engine = await startEngine(benchRulesFile());
  try {
    await putThermostats(engine.url, 'sim-', devices);
    const idle = await probe(engine.url, ctx.quick ? 1 : 3, 200, 0);
    const sim = runNode(
      [path.join(DIST, 'bench/lib/simulate-main.js'), '--url', `${engine.wsUrl}/v1/ingest`, '--devices', String(devices),
        '--rate', String(rate), '--batch', '100', '--shape', 'tuple', '--duration', String(loadS), '--json'],
      { timeoutMs: 120_000 },
    );
    await new Promise((r) => setTimeout(r, ctx.quick ? 1000 : 3000));
    const loaded = await probe(engine.url, loadS - (ctx.quick ? 2 : 5), 200, 10_000_000);
    const simOut = await sim;
    let offered = '';
    try {
      const rep = JSON.parse(simOut.stdout.trim().split('\n').pop() ?? '') as { sendRate: number; skippedFrames: number; errors: Record<string, number> };
      offered = `offered ${(rep.sendRate / 1e6).toFixed(2)}M events/s, ${rep.skippedFrames} frames skipped, errors ${JSON.stringify(rep.errors)}`;
    } catch {
      offered = `simulator: ${simOut.stderr.slice(-200)}`;
    }
    const ms = (h: hdr.Histogram, q: number): number => (q === 100 ? h.maxValue : h.getValueAtPercentile(q)) / 1000;
    for (const [q, label] of [[50, 'p50'], [99, 'p99'], [99.9, 'p999'], [100, 'max']] as const) {
      rows.push({
        scenario: SCENARIO, metric: `event→record ${label} at ${(rate / 1e6).toFixed(2)}M events/s`, value: ms(loaded.hist, q), unit: 'ms',
        baseline: `idle engine ${label}`, baselineValue: ms(idle.hist, q), ratio: ratio(ms(loaded.hist, q), ms(idle.hist, q)),
        target: label === 'p99' ? '<= 5 ms' : undefined,
        note: label === 'p50'
          ? `${loaded.received}/${loaded.sent} probes answered under load, ${idle.received}/${idle.sent} idle; ${offered}` +
            (haveMax ? '' : '; no ws-ingest max in this run: assumed 1M/s')
          : undefined,
      });
    }
  } finally {
    await engine.stop();
  }
}
