// Peer baseline: what a Node team would write without Damper (ws + msgpackr + the plain
// reference features + json-rules-engine on the same rules), driven by the same simulator.
// Reported as Damper / peer, with Damper's figure from this run's ws-ingest scenario.
import { startEngine, startPeer } from '../lib/child.js';
import { describeCpu, measureIngest, putThermostats } from '../lib/ingest.js';
import type { BenchRow } from '../lib/row.js';
import { bestIngest, ratio, type ScenarioContext } from './types.js';
import { benchRulesFile } from '../lib/rules-file.js';

const SCENARIO = 'peer';

export async function run(ctx: ScenarioContext, out: BenchRow[]): Promise<void> {
  const devices = ctx.quick ? 200 : 1000;
  const duration = ctx.quick ? 2 : 10;
  const warmupMs = ctx.quick ? 500 : 2000;
  const rulesFile = benchRulesFile();
  const simArgs = (url: string): string[] => [
    '--url', `${url}/v1/ingest`, '--devices', String(devices), '--rate', '0', '--batch', '100',
    '--shape', 'tuple', '--duration', String(duration), '--drain-timeout', '3',
  ];
  const peer = await startPeer(rulesFile);
  let peerRate = NaN;
  let note = '';
  try {
    await putThermostats(peer.url, 'sim-', devices);
    const m = await measureIngest({
      metricsUrl: `${peer.url}/metrics`, counter: 'damper_events_applied_total', scale: 1, serverPid: peer.pid,
      simArgs: simArgs(peer.wsUrl), warmupMs,
    });
    peerRate = m.rate;
    note = describeCpu(m, 'peer');
  } finally {
    await peer.stop();
  }
  let damper = bestIngest(ctx.rows);
  let source = 'ws-ingest scenario of this run (best of open and closed loop)';
  if (!(damper !== undefined && Number.isFinite(damper))) {
    const engine = await startEngine(rulesFile);
    try {
      await putThermostats(engine.url, 'sim-', devices);
      damper = (await measureIngest({
        metricsUrl: `${engine.url}/metrics`, counter: 'damper_events_applied_total', scale: 1, serverPid: engine.pid,
        simArgs: simArgs(engine.wsUrl), warmupMs,
      })).rate;
      source = 'measured in this scenario';
    } finally {
      await engine.stop();
    }
  }
  out.push(
    {
      scenario: SCENARIO, metric: `peer applied events/s (tuple, ${devices} conns)`, value: peerRate, unit: 'events/s',
      note: `ws + msgpackr + plain-TS windows + json-rules-engine, rules once per frame; ${note}`,
    },
    {
      scenario: SCENARIO, metric: 'Damper / peer (tuple)', value: damper, unit: 'events/s',
      baseline: 'peer applied events/s', baselineValue: peerRate, ratio: ratio(damper, peerRate),
      target: '>= 10x', note: `Damper figure from the ${source}`,
    },
  );
}
