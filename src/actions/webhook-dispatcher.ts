// Webhook deliveries. Each (action, device) is a lane: its deliveries go strictly one
// after the other in seq order, so a receiver sees a device's fired/cleared in order.
// Pending deliveries live in the `webhooks` database (written with the record, before it
// is visible), so a new dispatcher on the same store picks them up after a restart.
import type { Database, RootDatabase } from 'lmdb';
import type { ActionRecord } from './types.js';

export interface WebhookOptions {
  /** First retry delay; doubles per attempt up to `maxDelayMs`, then ±50 % jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Requests in flight across all lanes. */
  concurrency: number;
  /** Per-request timeout when the action definition gives none. */
  timeoutMs: number;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = {
  baseDelayMs: 500,
  maxDelayMs: 60_000,
  concurrency: 32,
  timeoutMs: 10_000,
};

/** What is stored per pending delivery; the target is frozen at the time of the record. */
export interface PendingDelivery {
  url: string;
  maxAttempts: number;
  timeoutMs: number;
  attempts: number;
}

type DeliveryKey = [action: string, device: string, seq: number];

interface Delivery {
  action: string;
  device: string;
  seq: number;
  p: PendingDelivery;
}

interface Lane {
  items: Delivery[];
  busy: boolean;
  waiting: boolean;
  timer: NodeJS.Timeout | null;
}

export interface WebhookDeps {
  /** JSON body of a logged record, undefined when retention already removed it. */
  body(seq: number): string | undefined;
  /** Appends the `undeliverable` record; resolves once it is durable. */
  undeliverable(seq: number, action: string, device: string): Promise<void>;
  random?: () => number;
}

export class WebhookDispatcher {
  private readonly db: Database<PendingDelivery, DeliveryKey>;
  private readonly lanes = new Map<string, Lane>();
  private readonly known = new Set<string>();
  private readonly ready: Lane[] = [];
  private active = 0;
  private started = false;
  private closed = false;
  private readonly abort = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly random: () => number;

  constructor(
    root: RootDatabase,
    private readonly opts: WebhookOptions,
    private readonly deps: WebhookDeps,
  ) {
    this.db = root.openDB<PendingDelivery, DeliveryKey>({ name: 'webhooks' });
    this.random = deps.random ?? Math.random;
  }

  /** Queues the durable pending entry; call in the same turn as the record's log write. */
  persist(action: string, device: string, seq: number, p: PendingDelivery): Promise<boolean> {
    return this.db.put([action, device, seq], p);
  }

  /** Hands over committed deliveries. Before `start` they wait; `start` runs them. */
  enqueue(action: string, device: string, seq: number, p: PendingDelivery): void {
    if (this.closed) return;
    const id = `${action}\u0000${device}\u0000${seq}`;
    if (this.known.has(id)) return;
    this.known.add(id);
    const lane = this.lane(action, device);
    lane.items.push({ action, device, seq, p });
    if (this.started) this.run(lane);
  }

  /** Loads deliveries left pending by an earlier run and starts every lane. */
  start(): void {
    if (this.started || this.closed) return;
    for (const { key, value } of this.db.getRange({ snapshot: false })) {
      const [action, device, seq] = key;
      const id = `${action}\u0000${device}\u0000${seq}`;
      if (this.known.has(id)) continue;
      this.known.add(id);
      this.lane(action, device).items.push({ action, device, seq, p: { ...value } });
    }
    this.started = true;
    for (const lane of this.lanes.values()) {
      lane.items.sort((a, b) => a.seq - b.seq);
      this.run(lane);
    }
  }

  pendingCount(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.items.length;
    return n;
  }

  /** Stops timers and aborts requests in flight; their entries stay pending in the store. */
  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    for (const lane of this.lanes.values()) if (lane.timer) clearTimeout(lane.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  private lane(action: string, device: string): Lane {
    const k = `${action}\u0000${device}`;
    let lane = this.lanes.get(k);
    if (!lane) {
      lane = { items: [], busy: false, waiting: false, timer: null };
      this.lanes.set(k, lane);
    }
    return lane;
  }

  private run(lane: Lane): void {
    if (this.closed || lane.busy || lane.waiting || lane.timer || lane.items.length === 0) return;
    if (this.active >= this.opts.concurrency) {
      lane.waiting = true;
      this.ready.push(lane);
      return;
    }
    lane.busy = true;
    this.active++;
    const task = this.attempt(lane, lane.items[0]!);
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private async attempt(lane: Lane, d: Delivery): Promise<void> {
    const body = this.deps.body(d.seq);
    let ok = false;
    if (body !== undefined) ok = await this.post(d, body);
    this.active--;
    this.wakeNext();
    if (this.closed) return;
    if (ok) {
      await this.finish(lane, d);
    } else if (body === undefined || d.p.attempts + 1 >= d.p.maxAttempts) {
      d.p.attempts++;
      try {
        await this.deps.undeliverable(d.seq, d.action, d.device);
      } catch {
        // The log refused the record (closing): keep the delivery pending for the next run.
        lane.busy = false;
        return;
      }
      await this.finish(lane, d);
    } else {
      d.p.attempts++;
      void this.db.put([d.action, d.device, d.seq], d.p);
      lane.busy = false;
      lane.timer = setTimeout(() => {
        lane.timer = null;
        this.run(lane);
      }, this.backoff(d.p.attempts));
      lane.timer.unref();
    }
  }

  private async finish(lane: Lane, d: Delivery): Promise<void> {
    lane.items.shift();
    this.known.delete(`${d.action}\u0000${d.device}\u0000${d.seq}`);
    await this.db.remove([d.action, d.device, d.seq]);
    lane.busy = false;
    if (lane.items.length === 0) this.lanes.delete(`${d.action}\u0000${d.device}`);
    else this.run(lane);
  }

  private async post(d: Delivery, body: string): Promise<boolean> {
    try {
      const res = await fetch(d.p.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': String(d.seq) },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(d.p.timeoutMs), this.abort.signal]),
      });
      // Read the body so the connection goes back to the pool.
      await res.arrayBuffer().catch(() => undefined);
      return res.status >= 200 && res.status < 300;
    } catch {
      return false;
    }
  }

  private wakeNext(): void {
    while (this.active < this.opts.concurrency && this.ready.length > 0) {
      const lane = this.ready.shift()!;
      lane.waiting = false;
      this.run(lane);
    }
  }

  private backoff(attempts: number): number {
    const exp = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** Math.min(attempts - 1, 30));
    return exp * (0.5 + 0.5 * this.random());
  }
}
