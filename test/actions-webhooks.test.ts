// Webhooks against real local HTTP receivers: retries, undeliverable, restarts mid-retry.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActionRecord, ActionRecordInput } from '../src/actions/types.js';
import { Client, input, onCleanup, runCleanups, startService, tempDir } from './helpers/action-harness.js';

afterEach(runCleanups);

/** A real HTTP receiver; `decide(key, attempt)` returns the status to answer. */
async function receiver(decide: (key: string, attempt: number) => number) {
  const attempts = new Map<string, number>();
  const accepted: Array<{ key: string; body: any }> = [];
  let total = 0;
  let duplicates = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = String(req.headers['idempotency-key']);
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      total++;
      const status = decide(key, n);
      // An idempotent receiver: a key it already accepted is acknowledged but not applied again.
      if (status >= 200 && status < 300) {
        if (accepted.some((a) => a.key === key)) duplicates++;
        else accepted.push({ key, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections(); // fetch keeps connections alive; do not wait for them
  }));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/cases`, attempts, accepted, total: () => total, duplicates: () => duplicates };
}

async function waitFor(pred: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const fast = { baseDelayMs: 5, maxDelayMs: 40 };

function hookInput(i: number, device: string): ActionRecordInput {
  return { ...input(i, device), actions: ['notify-owner', 'service-case'] };
}

describe('webhooks', () => {
  it('retries a failing receiver until it accepts: one accepted delivery per key, in order per device', async () => {
    const rx = await receiver((_key, attempt) => (attempt <= 3 ? 503 : 200));
    const h = await startService(tempDir(), { webhooks: fast });
    h.service.setDefinitions({ 'notify-owner': { kind: 'stream' }, 'service-case': { kind: 'webhook', url: rx.url, maxAttempts: 8 } });
    const recs = await h.service.append([hookInput(1, 'a'), hookInput(2, 'b'), hookInput(3, 'a'), hookInput(4, 'a'), hookInput(5, 'b')]);
    // A record whose rule names no webhook is not posted.
    await h.service.append([input(6, 'a')]);
    await waitFor(() => rx.accepted.length >= 5 && h.service.pendingDeliveries() === 0, 'deliveries');
    expect(rx.accepted.map((a) => a.key).sort()).toEqual(['1', '2', '3', '4', '5']);
    for (const [key, n] of rx.attempts) expect([key, n]).toEqual([key, 4]);
    expect(rx.duplicates()).toBe(0);
    const order = (dev: string) => rx.accepted.filter((a) => a.body.device === dev).map((a) => a.body.seq);
    expect(order('a')).toEqual([1, 3, 4]);
    expect(order('b')).toEqual([2, 5]);
    expect(rx.accepted.find((a) => a.key === '3')!.body).toEqual(JSON.parse(JSON.stringify(recs[2])));
    expect(h.service.lastSeq()).toBe(6); // no undeliverable record
  });

  it('emits an undeliverable record naming the action after maxAttempts', async () => {
    const rx = await receiver(() => 500);
    const published: string[] = [];
    const h = await startService(tempDir(), { webhooks: fast, onPublished: (recs) => recs.forEach((r) => published.push(r.state)) });
    h.service.setDefinitions({ 'service-case': { kind: 'webhook', url: rx.url, maxAttempts: 3 } });
    const c = await Client.connect(h.port, '?rule=too-hot');
    await h.service.append([hookInput(1, 'th-9')]);
    await c.until(() => c.msgs.length >= 2, 'undeliverable record');
    expect(c.msgs[1]).toMatchObject({
      seq: 2, state: 'undeliverable', action: 'service-case', ref: 1, rule: 'too-hot', device: 'th-9', version: 3,
    });
    expect(rx.attempts.get('1')).toBe(3);
    await waitFor(() => h.service.pendingDeliveries() === 0, 'queue empty');
    expect(rx.total()).toBe(3); // the undeliverable record itself is not posted
    expect(published).toEqual(['cleared', 'undeliverable']);
  });

  it('keeps pending deliveries and their attempt counts across a restart', async () => {
    let mode: 'fail' | 'ok' = 'fail';
    const rx = await receiver(() => (mode === 'ok' ? 200 : 500));
    const dir = tempDir();
    const defs = { 'service-case': { kind: 'webhook' as const, url: rx.url, maxAttempts: 40 } };
    let h = await startService(dir, { webhooks: fast });
    h.service.setDefinitions(defs);
    await h.service.append([hookInput(1, 'a'), hookInput(2, 'a'), hookInput(3, 'b')]);
    await waitFor(() => (rx.attempts.get('1') ?? 0) >= 3, 'some retries');
    await h.stop();
    mode = 'ok';
    const seenBefore = rx.total();
    h = await startService(dir, { webhooks: fast }); // no definitions yet: pending entries carry their target
    await waitFor(() => rx.accepted.length >= 3, 'deliveries after restart');
    await waitFor(() => h.service.pendingDeliveries() === 0, 'queue empty');
    expect(rx.accepted.map((a) => a.key)).toEqual(expect.arrayContaining(['1', '2', '3']));
    // A request that close() aborted may still have reached the receiver (same process
    // here), so a key can come twice: at-least-once, deduplicated by Idempotency-Key.
    expect(rx.accepted).toHaveLength(3);
    expect(rx.total()).toBeGreaterThan(seenBefore);
    expect(rx.accepted.filter((a) => a.body.device === 'a').map((a) => a.body.seq)).toEqual([1, 2]);
  });

  it('counts attempts made before a restart towards maxAttempts', async () => {
    const rx = await receiver(() => 500);
    const dir = tempDir();
    let h = await startService(dir, { webhooks: fast });
    h.service.setDefinitions({ 'service-case': { kind: 'webhook', url: rx.url, maxAttempts: 6 } });
    await h.service.append([hookInput(1, 'a')]);
    await waitFor(() => (rx.attempts.get('1') ?? 0) >= 3, 'three attempts');
    await h.stop();
    h = await startService(dir, { webhooks: fast });
    await waitFor(() => h.service.lastSeq() === 2, 'undeliverable record');
    const page = (await (await fetch(`http://127.0.0.1:${h.port}/v1/actions?from=2`)).json()) as { records: ActionRecord[] };
    expect(page.records[0]).toMatchObject({ seq: 2, state: 'undeliverable', action: 'service-case', ref: 1 });
    // 6 attempts in all; one more is possible when close() aborted a request the receiver had answered.
    expect(rx.attempts.get('1')).toBeGreaterThanOrEqual(6);
    expect(rx.attempts.get('1')).toBeLessThanOrEqual(7);
  });

  it('gives up on a request that exceeds the action timeout and retries it', async () => {
    const hung: Array<() => void> = [];
    const attempts: string[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        attempts.push(String(req.headers['idempotency-key']));
        if (attempts.length === 1) hung.push(() => res.destroy()); // never answers in time
        else res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onCleanup(() => new Promise<void>((r) => {
      for (const f of hung) f();
      server.close(() => r());
      server.closeAllConnections();
    }));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const h = await startService(tempDir(), { webhooks: fast });
    h.service.setDefinitions({ 'service-case': { kind: 'webhook', url, maxAttempts: 5, timeoutMs: 150 } });
    await h.service.append([hookInput(1, 'a')]);
    await waitFor(() => h.service.pendingDeliveries() === 0, 'delivered after a timeout');
    expect(attempts).toEqual(['1', '1']);
    expect(h.service.lastSeq()).toBe(1);
  });
});
