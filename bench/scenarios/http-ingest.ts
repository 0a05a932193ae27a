// HTTP ingest: autocannon -c 100 against POST /v1/events with a 100-event msgpack body,
// with and without -p 10, against a bare uWS POST endpoint measured in the same run.
import autocannon from 'autocannon';
import { startBare, startEngine, type Server } from '../lib/child.js';
import { FramePool } from '../../src/simulate/frames.js';
import type { BenchRow } from '../lib/row.js';
import { ratio, type ScenarioContext } from './types.js';
import { benchRulesFile } from '../lib/rules-file.js';

const SCENARIO = 'http-ingest';

interface Cannon {
  /** 2xx answers per second: requests the server accepted (autocannon's average counts every answer). */
  reqPerS: number;
  /** Every answer per second, 2xx or not. */
  answeredPerS: number;
  ok: number;
  non2xx: number;
  errors: number;
  p99ms: number;
}

function cannon(url: string, body: Buffer, pipelining: number, duration: number): Promise<Cannon> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url, method: 'POST', body, connections: 100, pipelining, duration,
        headers: { 'content-type': 'application/msgpack' },
      },
      (err: Error | null, r: autocannon.Result) => {
        if (err) reject(err);
        else resolve({
          reqPerS: r['2xx'] / duration, answeredPerS: r.requests.average, ok: r['2xx'], non2xx: r.non2xx, errors: r.errors + r.timeouts,
          p99ms: r.latency.p99,
        });
      },
    );
  });
}

export async function run(ctx: ScenarioContext, rows: BenchRow[]): Promise<void> {
  const duration = ctx.quick ? 2 : 10;
  const warmup = ctx.quick ? 1 : 2;
  const pool = new FramePool({ shape: 'tuple', batch: 100, gateway: false, devices: 1, prefix: 'sim-' }, Date.now());
  const body = pool.frames[0].events;
  const measure = async (server: Server, pathQuery: string, p: number): Promise<Cannon> => {
    await cannon(`${server.url}${pathQuery}`, body, p, warmup);
    return cannon(`${server.url}${pathQuery}`, body, p, duration);
  };
  const results: Record<string, Cannon> = {};
  const bare = await startBare();
  try {
    for (const p of [1, 10]) results[`bare-${p}`] = await measure(bare, '/v1/events', p);
  } finally {
    await bare.stop();
  }
  const engine = await startEngine(benchRulesFile());
  try {
    for (const p of [1, 10]) results[`engine-${p}`] = await measure(engine, '/v1/events?device=sim-http-0', p);
  } finally {
    await engine.stop();
  }
  for (const p of [1, 10]) {
    const e = results[`engine-${p}`];
    const b = results[`bare-${p}`];
    rows.push({
      scenario: SCENARIO, metric: `POST /v1/events 202/s (-c 100 -p ${p})`, value: e.reqPerS, unit: 'req/s',
      baseline: 'bare uWS POST endpoint', baselineValue: b.reqPerS, ratio: ratio(e.reqPerS, b.reqPerS),
      target: '>= 0.7x bare',
      note: `= ${((e.reqPerS * 100) / 1e6).toFixed(2)}M events/s accepted; engine answered ${Math.round(e.answeredPerS)}/s: ` +
        `2xx ${e.ok}, non-2xx ${e.non2xx} (503 overloaded when the rings are full), errors ${e.errors}, p99 ${e.p99ms} ms; bare p99 ${b.p99ms} ms`,
    });
  }
}
