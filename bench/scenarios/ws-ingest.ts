// WS ingest: events/s the kernel actually applies (damper_events_applied_total) from 1,000
// device connections sending 100-event frames, against two references measured here:
// msgpackr decoding the same frames on one core, and the bare uWS endpoint (the ceiling).
import { decodeRate } from '../baselines/msgpack-decode.js';
import { startBare, startEngine } from '../lib/child.js';
import { describeCpu, measureIngest, putThermostats } from '../lib/ingest.js';
import type { BenchRow } from '../lib/row.js';
import { ratio, type ScenarioContext } from './types.js';
import { benchRulesFile } from '../lib/rules-file.js';

const SCENARIO = 'ws-ingest';

export async function run(ctx: ScenarioContext, rows: BenchRow[]): Promise<void> {
  const devices = ctx.quick ? 200 : 1000;
  const duration = ctx.quick ? 2 : 10;
  const warmupMs = ctx.quick ? 500 : 2000;
  const simArgs = (url: string, shape: string, barrier: boolean): string[] => [
    '--url', `${url}/v1/ingest`, '--devices', String(devices), '--rate', '0', '--batch', '100',
    '--shape', shape, '--duration', String(duration), '--drain-timeout', '5', ...(barrier ? [] : ['--no-barrier']),
  ];

  // References first, while nothing else runs.
  const decode = {
    tuple: decodeRate('tuple', 100, ctx.quick ? 0.5 : 3).eventsPerS,
    map: decodeRate('map', 100, ctx.quick ? 0.5 : 3).eventsPerS,
  };
  rows.push({ scenario: SCENARIO, metric: 'msgpackr decode, 1 core (tuple)', value: decode.tuple, unit: 'events/s', note: 'reference' });
  rows.push({ scenario: SCENARIO, metric: 'msgpackr decode, 1 core (map)', value: decode.map, unit: 'events/s', note: 'reference' });

  const bare = await startBare();
  let ceiling = NaN;
  try {
    const m = await measureIngest({
      metricsUrl: `${bare.url}/metrics`, counter: 'bare_frames_total', scale: 100, serverPid: bare.pid,
      simArgs: simArgs(bare.wsUrl, 'tuple', false), warmupMs,
    });
    ceiling = m.rate;
    rows.push({
      scenario: SCENARIO, metric: 'bare uWS endpoint (tuple)', value: m.rate, unit: 'events/s',
      note: `reference (box ceiling); ${describeCpu(m, 'bare')}`,
    });
  } finally {
    await bare.stop();
  }

  const engine = await startEngine(benchRulesFile());
  try {
    const attrsOk = await putThermostats(engine.url, 'sim-', devices);
    for (const shape of ['tuple', 'map'] as const) {
      const m = await measureIngest({
        metricsUrl: `${engine.url}/metrics`, counter: 'damper_events_applied_total', scale: 1, serverPid: engine.pid,
        simArgs: simArgs(engine.wsUrl, shape, true), warmupMs,
      });
      const sim = m.sim;
      const errors = sim && Object.keys(sim.errors).length > 0 ? `; error frames ${JSON.stringify(sim.errors)}` : '';
      const offered = sim ? `offered ${(sim.sendRate / 1e6).toFixed(2)}M/s` : m.simError ?? 'no simulator report';
      rows.push({
        scenario: SCENARIO, metric: `applied events/s (${shape}, ${devices} conns)`, value: m.rate, unit: 'events/s',
        baseline: `msgpackr decode, 1 core (${shape})`, baselineValue: decode[shape], ratio: ratio(m.rate, decode[shape]),
        target: shape === 'tuple' ? '>= 4M/s and >= 0.5x decode' : '>= 0.5x decode',
        note: `${offered}${errors}; attrs set on ${attrsOk}/${devices} devices`,
      });
      if (shape === 'tuple') {
        rows.push({
          scenario: SCENARIO, metric: 'applied events/s vs ceiling (tuple)', value: m.rate, unit: 'events/s',
          baseline: 'bare uWS endpoint (tuple)', baselineValue: ceiling, ratio: ratio(m.rate, ceiling),
          note: 'shows the socket is not the limit',
        });
      }
      if (shape === 'tuple') {
        // Closed loop: acknowledged frames, at most 4 unanswered per connection, so the
        // engine runs at its own pace without `overloaded` rejections.
        const w = await measureIngest({
          metricsUrl: `${engine.url}/metrics`, counter: 'damper_events_applied_total', scale: 1, serverPid: engine.pid,
          simArgs: [...simArgs(engine.wsUrl, shape, true), '--window', '4'], warmupMs,
        });
        const werr = w.sim && Object.keys(w.sim.errors).length > 0 ? `; error frames ${JSON.stringify(w.sim.errors)}` : '';
        rows.push({
          scenario: SCENARIO, metric: `applied events/s (tuple, acked, window 4)`, value: w.rate, unit: 'events/s',
          baseline: 'msgpackr decode, 1 core (tuple)', baselineValue: decode.tuple, ratio: ratio(w.rate, decode.tuple),
          target: '>= 4M/s and >= 0.5x decode',
          note: `closed loop${werr}; ${describeCpu(w, 'engine')}`,
        });
      }
      rows.push({
        scenario: SCENARIO, metric: `CPU split (${shape})`, value: m.serverCpu?.total ?? NaN, unit: 'engine cores',
        baseline: 'simulator cores', baselineValue: m.simCpu?.total, ratio: ratio(m.serverCpu?.total ?? NaN, m.simCpu?.total ?? NaN),
        note: describeCpu(m, 'engine'),
      });
    }
  } finally {
    await engine.stop();
  }
}
