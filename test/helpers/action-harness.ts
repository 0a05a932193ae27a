// Shared harness of the action-stream tests: a real ActionService on a real lmdb store in a
// temp dir, mounted on a real uWS app on port 0, and a ws client that keeps every message.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { unpack } from 'msgpackr';
import uWS from 'uWebSockets.js';
import WebSocket from 'ws';
import { ActionService, type ActionServiceOptions } from '../../src/actions/action-service.js';
import type { ActionRecordInput } from '../../src/actions/types.js';
import { listenApp, type Listening } from '../../src/ops/listen.js';

export interface Harness {
  dir: string;
  root: RootDatabase;
  service: ActionService;
  port: number;
  stop(): Promise<void>;
}

const cleanups: Array<() => Promise<void> | void> = [];

/** Call from afterEach: stops services, closes clients and removes temp dirs of the test. */
export async function runCleanups(): Promise<void> {
  while (cleanups.length) await cleanups.pop()!();
}

export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'damper-actions-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function startService(dir: string, extra: Partial<ActionServiceOptions> = {}, authorize = () => true): Promise<Harness> {
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

export function input(i: number, device = 'th-1', rule = 'too-hot'): ActionRecordInput {
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
export class Client {
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

export const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
