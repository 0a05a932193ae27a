// Connections: 10k and 50k idle device connections; engine RSS per connection, against the
// bare uWS endpoint holding the same connections (measured in the same run). Both ends
// need one fd per connection: a count the OS refuses is skipped with a note.
import { execFileSync } from 'node:child_process';
import { startBare, startEngine, type Server } from '../lib/child.js';
import { rssBytes } from '../lib/proc-stat.js';
import { RawWsClient } from '../../src/simulate/raw-ws.js';
import type { BenchRow } from '../lib/row.js';
import { ratio, type ScenarioContext } from './types.js';
import { benchRulesFile } from '../lib/rules-file.js';

const SCENARIO = 'connections';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function hardFdLimit(): number {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Infinity : Number(out);
  } catch {
    return 0;
  }
}

async function hold(server: Server, n: number): Promise<{ perConn: number; open: number; failures: number; firstError?: string }> {
  await sleep(1000);
  const before = rssBytes(server.pid);
  const u = new URL(server.url);
  const clients: RawWsClient[] = [];
  let failures = 0;
  let firstError: string | undefined;
  let next = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next < n) {
        const i = next++;
        try {
          clients.push(await RawWsClient.connect(
            { host: u.hostname, port: Number(u.port), path: `/v1/ingest?device=idle-${i}`, localAddress: `127.0.0.${1 + Math.floor(i / 20000)}` },
            { onMessage: () => undefined, onClose: () => undefined },
          ));
        } catch (err) {
          failures++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  await sleep(2000);
  const after = rssBytes(server.pid);
  const open = clients.filter((c) => !c.closed).length;
  for (const c of clients) c.destroy();
  await sleep(500);
  return { perConn: open > 0 ? (after - before) / open : NaN, open, failures, firstError };
}

export async function run(ctx: ScenarioContext, rows: BenchRow[]): Promise<void> {
  const counts = ctx.quick ? [2000] : [10_000, 50_000];
  const limit = hardFdLimit();
  for (const n of counts) {
    const need = n + 1000;
    if (limit < need) {
      rows.push({
        scenario: SCENARIO, metric: `${n / 1000}k idle connections`, value: NaN, unit: 'B/conn',
        note: `skipped: the OS refuses (hard fd limit ${limit} < ${need} per process; raise it with ulimit -Hn as root)`,
      });
      continue;
    }
    const fdLimit = Math.min(limit, n + 4096);
    const bare = await startBare(fdLimit);
    let b;
    try {
      b = await hold(bare, n);
    } finally {
      await bare.stop();
    }
    const engine = await startEngine(benchRulesFile(), [], fdLimit);
    let e;
    try {
      e = await hold(engine, n);
    } finally {
      await engine.stop();
    }
    rows.push({
      scenario: SCENARIO, metric: `engine RSS per idle connection (${n / 1000}k)`, value: e.perConn, unit: 'B/conn',
      baseline: 'bare uWS endpoint', baselineValue: b.perConn, ratio: ratio(e.perConn, b.perConn), target: '<= 4096 B',
      note: `${e.open}/${n} engine connections held (${e.failures} failed${e.firstError ? `: ${e.firstError}` : ''}), ${b.open}/${n} bare`,
    });
  }
}
