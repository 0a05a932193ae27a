// A seconds-long scenario that exercises the runner's plumbing end to end (child process,
// bare server, simulator process, counter polling, rows) for `npm test`. Not in the default run.
import { decodeRate } from '../baselines/msgpack-decode.js';
import { startBare } from '../lib/child.js';
import { measureIngest } from '../lib/ingest.js';
import type { BenchRow } from '../lib/row.js';
import { ratio, type ScenarioContext } from './types.js';

export async function run(_ctx: ScenarioContext, rows: BenchRow[]): Promise<void> {
  const decode = decodeRate('tuple', 10, 0.2).eventsPerS;
  const bare = await startBare();
  try {
    const m = await measureIngest({
      metricsUrl: `${bare.url}/metrics`, counter: 'bare_frames_total', scale: 10, serverPid: bare.pid,
      simArgs: ['--url', `${bare.wsUrl}/v1/ingest`, '--devices', '5', '--rate', '20000', '--batch', '10', '--duration', '1', '--no-barrier'],
      warmupMs: 0,
    });
    const received = Number((await (await fetch(`${bare.url}/metrics`)).text()).match(/bare_frames_total (\d+)/)?.[1] ?? NaN) * 10;
    rows.push({
      scenario: 'smoke', metric: 'events received by the bare endpoint', value: received, unit: 'events',
      baseline: 'events the simulator sent', baselineValue: m.sim?.eventsSent, ratio: ratio(received, m.sim?.eventsSent ?? NaN),
      note: `sustained ${Math.round(m.rate)} events/s; decode ${Math.round(decode)} events/s`,
    });
  } finally {
    await bare.stop();
  }
}
