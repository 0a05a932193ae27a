import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestClient, startEngine, type InProcessEngine } from './helpers/index.js';

let e: InProcessEngine;
beforeAll(async () => {
  e = await startEngine({ flags: { shards: 2, 'max-frames-per-second': 5 } });
});
afterAll(async () => {
  await e?.stop();
});

describe('limits.maxFramesPerSecond', () => {
  it('answers rate_limited for frames above the rate and applies the others', async () => {
    const c = await IngestClient.connect(e.wsUrl, 'device=rl-1');
    const n = 40;
    for (let s = 1; s <= n; s++) c.send({ seq: s, events: [{ m: 'x', v: s, t: s }] });
    const replies = [];
    for (let i = 0; i < n; i++) replies.push(await c.next());
    const limited = replies.filter((r) => r.nack !== undefined);
    expect(limited.length).toBeGreaterThan(0);
    for (const r of limited) expect(r.error).toMatchObject({ code: 'rate_limited', seq: r.nack });
    const acked = replies.filter((r) => r.ack !== undefined);
    expect(acked.length + limited.length).toBe(n);
    const metrics = await (await fetch(`${e.url}/metrics`)).text();
    expect(metrics).toContain(`damper_events_rejected_total{code="rate_limited"} ${limited.length}`);
    c.close();
  });

  it('answers 429 over HTTP', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${e.url}/v1/events?device=rl-http`, { method: 'POST', headers: { 'Content-Type': 'application/msgpack' }, body: pack({ m: 'x', v: i }) });
      statuses.push(res.status);
      if (res.status === 429) expect(((await res.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      else await res.arrayBuffer();
    }
    expect(statuses).toContain(202);
    expect(statuses).toContain(429);
  });
});
