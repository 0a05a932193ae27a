// End to end through the real engine: events in on /v1/ingest → kernel → action records out
// on ws /v1/actions (admin token), on GET /v1/actions and to a webhook; a restart keeps seq
// and a durable consumer's position.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { IngestClient, startEngine, type InProcessEngine } from './helpers/index.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const TOKEN = 's3cret';
const auth = { Authorization: `Bearer ${TOKEN}` };

async function receiver() {
  const posts: Array<{ key: string; body: any }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ key: String(req.headers['idempotency-key']), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cases`, posts };
}

async function subscribe(e: InProcessEngine, query: string) {
  const msgs: any[] = [];
  const ws = new WebSocket(`${e.wsUrl}/v1/actions${query}`, { headers: auth });
  ws.on('message', (d: Buffer) => msgs.push(JSON.parse(d.toString('utf8'))));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  cleanups.push(() => ws.terminate());
  return { ws, msgs };
}

let describeState: () => string = () => '';

async function waitFor(pred: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; ${describeState()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('action stream through the engine', () => {
  it('turns readings into durable records on the stream, over HTTP and to a webhook, across a restart', async () => {
    const rx = await receiver();
    const rules = `
rules:
  - id: too-hot
    when: last(temperature) > 100
    clear: last(temperature) < 90
    actions: [note, case]
actions:
  note: { kind: stream }
  case: { kind: webhook, url: "${rx.url}", maxAttempts: 3 }
`;
    const dataDir = mkdtempSync(join(tmpdir(), 'damper-actions-e2e-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const flags = { shards: 2, 'admin-token': TOKEN };
    let e = await startEngine({ rules, dataDir, flags });
    cleanups.push(() => e.stop());

    const refused = await fetch(`${e.url}/v1/actions`);
    expect(refused.status).toBe(401);
    const live = await subscribe(e, '?consumer=e2e');
    describeState = () =>
      `stream: ${JSON.stringify(live.msgs.map((m) => [m.seq, m.device, m.state]))}, webhook: ${JSON.stringify(rx.posts.map((p) => p.key))}, ` +
      `last seq ${e.engine.actions.lastSeq()}, pending ${e.engine.actions.pendingDeliveries()}`;
    const dev = await IngestClient.connect(e.wsUrl, 'device=th-7');
    const t = 1_763_800_000_000;
    expect(await dev.request([{ m: 'temperature', v: 70, t }, { m: 'temperature', v: 101, t: t + 1 }])).toMatchObject({ ack: 1 });
    expect(await dev.request([{ m: 'temperature', v: 95, t: t + 2 }, { m: 'temperature', v: 80, t: t + 3 }])).toMatchObject({ ack: 2 });
    await waitFor(() => live.msgs.length >= 2, 'fired and cleared on the stream');
    expect(live.msgs).toEqual([
      {
        seq: 1, time: expect.any(String), ts: t + 1, rule: 'too-hot', version: 1, device: 'th-7', state: 'fired',
        values: { 'last(temperature)': 101 }, actions: ['note', 'case'], attrs: expect.any(Object),
      },
      expect.objectContaining({ seq: 2, ts: t + 3, state: 'cleared', values: { 'last(temperature)': 80 } }),
    ]);
    await waitFor(() => rx.posts.length >= 2, 'webhook deliveries');
    expect(rx.posts.map((p) => [p.key, p.body.state])).toEqual([['1', 'fired'], ['2', 'cleared']]);
    const page = (await (await fetch(`${e.url}/v1/actions?from=1`, { headers: auth })).json()) as { records: any[] };
    expect(page.records).toEqual(live.msgs);
    live.ws.send(JSON.stringify({ ack: 1 }));
    dev.close();
    // The server handles messages in order: once it answered the close, it has the ack.
    await new Promise((r) => {
      live.ws.once('close', r);
      live.ws.close();
    });

    await e.stop();
    e = await startEngine({ rules, dataDir, flags });
    cleanups.push(() => e.stop());
    const resumed = await subscribe(e, '?consumer=e2e');
    describeState = () =>
      `resumed: ${JSON.stringify(resumed.msgs.map((m) => [m.seq, m.device, m.state]))}, last seq ${e.engine.actions.lastSeq()}`;
    const dev2 = await IngestClient.connect(e.wsUrl, 'device=th-8');
    expect(await dev2.request([{ m: 'temperature', v: 150, t }])).toMatchObject({ ack: 1 });
    await waitFor(() => resumed.msgs.length >= 2, 'resume after ack 1, then the new record');
    expect(resumed.msgs.map((m) => [m.seq, m.device, m.state])).toEqual([[2, 'th-7', 'cleared'], [3, 'th-8', 'fired']]);
    dev2.close();
  });
});
