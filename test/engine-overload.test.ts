import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestClient, startEngine, type InProcessEngine } from './helpers/index.js';

// A 4 KiB ring per shard saturates within one burst of frames.
let e: InProcessEngine;
beforeAll(async () => {
  e = await startEngine({ flags: { shards: 1, workers: 1 }, hooks: { shardMemory: { ringBytes: 4096 } } });
});
afterAll(async () => {
  await e?.stop();
});

describe('a saturated shard', () => {
  it('answers overloaded instead of buffering, and applies every acked batch', async () => {
    const c = await IngestClient.connect(e.wsUrl, 'device=flood');
    const filler = 'x'.repeat(300);
    const n = 400;
    for (let s = 1; s <= n; s++) c.send({ seq: s, events: [{ m: 'x', v: s, t: s }], pad: filler });
    const replies = [];
    for (let i = 0; i < n; i++) replies.push(await c.next(20_000));
    const acked = replies.filter((r) => r.ack !== undefined);
    const nacked = replies.filter((r) => r.nack !== undefined);
    expect(acked.length + nacked.length).toBe(n);
    expect(nacked.length).toBeGreaterThan(0);
    for (const r of nacked) expect(r.error).toMatchObject({ code: 'overloaded' });
    // every batch is answered exactly once
    expect(new Set(replies.map((r) => r.ack ?? r.nack)).size).toBe(n);
    const metrics = await (await fetch(`${e.url}/metrics`)).text();
    expect(metrics).toContain(`damper_events_applied_total ${acked.length}`);
    expect(metrics).toContain(`damper_events_rejected_total{code="overloaded"} ${nacked.length}`);
    c.close();
  });

  it('answers 503 overloaded over HTTP when the shard cannot take the body', async () => {
    // a body larger than the whole 4 KiB ring can never be queued
    const body = pack(Array.from({ length: 600 }, (_, i) => [i + 0.5, 'x', i + 0.5]));
    expect(body.length).toBeGreaterThan(4096);
    const res = await fetch(`${e.url}/v1/events?device=flood-http`, { method: 'POST', headers: { 'Content-Type': 'application/msgpack' }, body });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'overloaded' } });
    const small = await fetch(`${e.url}/v1/events?device=flood-http`, { method: 'POST', headers: { 'Content-Type': 'application/msgpack' }, body: pack([1, 'x', 1]) });
    expect(small.status).toBe(202);
  });
});
