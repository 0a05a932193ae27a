// A stalled /v1/actions subscriber: bounded server memory, nobody else slowed, full catch-up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { unpack } from 'msgpackr';
import uWS from 'uWebSockets.js';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ActionService, type ActionServiceOptions } from '../src/actions/action-service.js';
import type { ActionRecord, ActionRecordInput } from '../src/actions/types.js';
import { listenApp, type Listening } from '../src/ops/listen.js';

interface Harness {
  dir: string;
  root: RootDatabase;
  service: ActionService;
  port: number;
  stop(): Promise<void>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'damper-actions-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startService(dir: string, extra: Partial<ActionServiceOptions> = {}, authorize = () => true): Promise<Harness> {
  const root = open({ path: dir });
  const service = new ActionService({ root, ...extra });
  const app = uWS.App();
  service.mount(app, { authorize });
  const listening: Listening = await listenApp(app, '127.0.0.1', 0);
  service.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await service.close();
    listening.close();
    await root.close();
  };
  cleanups.push(stop);
  return { dir, root, service, port: listening.port, stop };
}

function input(i: number, device = 'th-1', rule = 'too-hot'): ActionRecordInput {
  return {
    ts: 1763805600000 + i,
    rule,
    version: 3,
    device,
    state: i % 2 === 0 ? 'fired' : 'cleared',
    values: { 'avg(temperature, 5m)': 80 + i, 'device.setpoint': 76 },
    actions: ['notify-owner'],
    attrs: { type: 'thermostat' },
    receivedAt: 12345,
  };
}

/** A real ws client that keeps every message, decoded. */
class Client {
  readonly msgs: any[] = [];
  closeCode: number | null = null;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.msgs.push(isBinary ? unpack(data) : JSON.parse(data.toString('utf8')));
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  static async connect(port: number, query: string): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/actions${query}`);
    const c = new Client(ws);
    cleanups.push(() => ws.terminate());
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return c;
  }

  seqs(): number[] {
    return this.msgs.filter((m) => typeof m.seq === 'number').map((m) => m.seq);
  }

  async until(pred: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.msgs.slice(-3))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.until(() => this.closeCode !== null, 'close');
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('slow consumers', () => {
  it('pauses a stalled subscriber within its bound and catches it up from the log', async () => {
    const bound = 64 * 1024;
    const h = await startService(tempDir(), { streamBufferBytes: bound });
    const fast = await Client.connect(h.port, '?format=msgpack');
    const slow = await Client.connect(h.port, '');
    slow.ws.pause(); // stops reading: the kernel buffers fill, then uWS backpressure builds
    const big = 'x'.repeat(2000);
    const total = 5000;
    const batch = 250;
    for (let b = 0; b < total / batch; b++) {
      const recs = await h.service.append(range(1, batch).map((i) => ({ ...input(i, `dev-${i % 50}`), attrs: { type: 'thermostat', note: big } })));
      expect(recs[recs.length - 1]!.seq).toBe((b + 1) * batch);
    }
    // Ingest and the other consumer kept going while the slow one was stalled.
    await fast.until(() => fast.msgs.length >= total, 'fast consumer');
    expect(fast.seqs()).toEqual(range(1, total));
    const stats = h.service.streamStats();
    expect(stats.pauses).toBeGreaterThanOrEqual(1);
    expect(slow.msgs.length).toBeLessThan(total);
    // Server-side buffering for the stalled socket stayed within the bound plus one record.
    expect(stats.maxBufferedBytes).toBeLessThanOrEqual(bound + 4096);

    slow.ws.resume();
    await slow.until(() => slow.msgs.length >= total, 'slow consumer catch-up');
    expect(slow.seqs()).toEqual(range(1, total));
    // Back to live: a new record arrives without any further drain.
    await h.service.append([input(1)]);
    await slow.until(() => slow.msgs.length > total, 'live again');
    expect(slow.seqs()[total]).toBe(total + 1);
    expect(h.service.streamStats().maxBufferedBytes).toBeLessThanOrEqual(bound + 4096);
  });

  it('tells a subscriber that fell behind retention out_of_range instead of skipping records', async () => {
    const h = await startService(tempDir(), {
      streamBufferBytes: 16 * 1024,
      retention: { maxAgeMs: 3600_000, maxRecords: 200 },
      pruneIntervalMs: 10,
    });
    const slow = await Client.connect(h.port, '');
    slow.ws.pause();
    const big = 'y'.repeat(2000);
    for (let b = 0; b < 12; b++) {
      await h.service.append(range(1, 250).map((i) => ({ ...input(i), attrs: { note: big } })));
    }
    await new Promise<void>((resolve) => {
      const t = setInterval(() => h.service.oldestSeq() > 2800 && (clearInterval(t), resolve()), 10);
    });
    expect(h.service.streamStats().pauses).toBeGreaterThanOrEqual(1);
    slow.ws.resume();
    await slow.until(() => slow.closeCode !== null, 'close');
    expect(slow.closeCode).toBe(4410);
    const last = slow.msgs[slow.msgs.length - 1];
    expect(last).toEqual({ error: { code: 'out_of_range', message: expect.any(String), oldest: h.service.oldestSeq() } });
    const seqs = slow.seqs();
    expect(seqs).toEqual(range(1, seqs.length)); // what it got has no gap
    expect(seqs.length).toBeLessThan(3000);
  });
});
