// The action service: numbers records, makes them durable, then shows them to
// subscribers and webhooks — in that order, so nobody sees a record the log could lose.
import type { RootDatabase } from 'lmdb';
import type uWS from 'uWebSockets.js';
import { DamperError, ERR_STATE } from '../errors.js';
import { ActionLog, DEFAULT_RETENTION, type RetentionOptions } from './action-log.js';
import { mountActionHttp } from './action-http.js';
import { ActionStream, type PublishBatch, type StreamStats } from './action-stream.js';
import { ConsumerStore } from './consumer-store.js';
import { decodeRecord, encodeRecord, publicRecord, recordJson } from './record-codec.js';
import type { ActionDefinition, ActionRecord, ActionRecordInput } from './types.js';
import {
  DEFAULT_WEBHOOK_OPTIONS,
  WebhookDispatcher,
  type PendingDelivery,
  type WebhookOptions,
} from './webhook-dispatcher.js';

export interface ActionServiceOptions {
  root: RootDatabase;
  retention?: RetentionOptions;
  now?: () => number;
  /** Per-socket backpressure bound of /v1/actions subscribers (bytes). */
  streamBufferBytes?: number;
  webhooks?: Partial<WebhookOptions>;
  /** How often retention runs (ms). */
  pruneIntervalMs?: number;
  /** Told about /v1/actions connections opening (+1) and closing (−1), for metrics. */
  onConnections?: (delta: number) => void;
  /**
   * Told about every published batch, including the `undeliverable` records the service
   * appends itself (which no caller of `append` sees), e.g. for damper_actions_total.
   */
  onPublished?: (records: ActionRecord[]) => void;
}

const DEFAULT_STREAM_BUFFER = 256 * 1024;

/** An action record could not be encoded (e.g. a value msgpack cannot represent). */
export const ERR_ACTION_RECORD = 'DAMPER_ERR_ACTION_RECORD';

export class ActionService {
  private readonly log: ActionLog;
  private readonly stream: ActionStream;
  private readonly webhooks: WebhookDispatcher;
  private readonly now: () => number;
  private defs: Record<string, ActionDefinition> = {};
  /** Publication follows commit order even if lmdb were to resolve out of order. */
  private tail: Promise<void> = Promise.resolve();
  private pruneTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly onPublished: ((records: ActionRecord[]) => void) | undefined;
  private readonly root: RootDatabase;

  constructor(opts: ActionServiceOptions) {
    this.now = opts.now ?? Date.now;
    this.onPublished = opts.onPublished;
    this.root = opts.root;
    this.log = new ActionLog(opts.root, opts.retention ?? DEFAULT_RETENTION, (bytes) =>
      Date.parse(decodeRecord(bytes).time),
    );
    const consumers = new ConsumerStore(opts.root);
    this.stream = new ActionStream(this.log, consumers, {
      bufferBytes: opts.streamBufferBytes ?? DEFAULT_STREAM_BUFFER,
      onConnections: opts.onConnections,
    });
    this.webhooks = new WebhookDispatcher(
      opts.root,
      { ...DEFAULT_WEBHOOK_OPTIONS, ...opts.webhooks },
      {
        body: (seq) => {
          const bytes = this.log.get(seq);
          return bytes === undefined ? undefined : recordJson(decodeRecord(bytes));
        },
        undeliverable: (seq, action, device) => this.appendUndeliverable(seq, action, device),
      },
    );
    const interval = opts.pruneIntervalMs ?? 1000;
    this.pruneTimer = setInterval(() => this.log.prune(this.now()), interval);
    this.pruneTimer.unref();
  }

  setDefinitions(defs: Record<string, ActionDefinition>): void {
    this.defs = { ...defs };
  }

  /**
   * Assigns seqs in call order, writes records (and their pending webhook deliveries) in
   * one lmdb batch, and once committed publishes them. Resolves with the records.
   */
  append(inputs: ActionRecordInput[]): Promise<ActionRecord[]> {
    if (this.closed) return Promise.reject(new DamperError(ERR_STATE, 'action service is closed'));
    const n = inputs.length;
    if (n === 0) return Promise.resolve([]);
    const first = this.log.reserve(n);
    const records = new Array<ActionRecord>(n);
    const bytes = new Array<Buffer>(n);
    // Encode everything before writing anything: a record that cannot be encoded fails the
    // whole call with nothing written and its seqs handed back (nothing ran in between).
    try {
      const time = new Date(this.now()).toISOString();
      for (let i = 0; i < n; i++) {
        records[i] = publicRecord(first + i, time, inputs[i]!);
        bytes[i] = encodeRecord(records[i]!);
      }
    } catch (err) {
      this.log.unreserve(first);
      return Promise.reject(new DamperError(ERR_ACTION_RECORD, `cannot encode action record: ${(err as Error).message}`));
    }
    let lastWrite: Promise<boolean> | undefined;
    let hooks: Array<[string, ActionRecord, PendingDelivery]> | null = null;
    for (let i = 0; i < n; i++) {
      const rec = records[i]!;
      lastWrite = this.log.write(rec.seq, bytes[i]!);
      if (rec.state === 'undeliverable') continue;
      for (const action of rec.actions) {
        const def = this.defs[action];
        if (def === undefined || def.kind !== 'webhook') continue;
        const p = { url: def.url, maxAttempts: Math.max(1, def.maxAttempts), timeoutMs: def.timeoutMs ?? 0, attempts: 0 };
        if (p.timeoutMs <= 0) p.timeoutMs = DEFAULT_WEBHOOK_OPTIONS.timeoutMs;
        lastWrite = this.webhooks.persist(action, rec.device, rec.seq, p);
        (hooks ??= []).push([action, rec, p]);
      }
    }
    // lmdb resolves a write at commit; with overlappingSync (its Linux default) the fsync
    // may still be running. The thenable `flushed` is read now, so it covers these writes.
    const written = lastWrite!;
    const committed = new Promise<unknown>((resolve, reject) => {
      this.root.flushed.then(() => resolve(written), reject);
    });
    const last = first + n - 1;
    const batch: PublishBatch = { records, bytes, json: new Array<string | undefined>(n) };
    const done = this.tail.then(() => committed).then(() => {
      this.log.markCommitted(last);
      this.stream.publish(batch);
      if (hooks !== null) for (const [action, rec, p] of hooks) this.webhooks.enqueue(action, rec.device, rec.seq, p);
      if (this.onPublished !== undefined) {
        try {
          this.onPublished(records);
        } catch {
          // An observer's failure must not fail the append: the records are already out.
        }
      }
      return records;
    });
    this.tail = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  mount(app: uWS.TemplatedApp, opts: { authorize(req: uWS.HttpRequest): boolean }): void {
    const authorize = (req: uWS.HttpRequest) => opts.authorize(req);
    this.stream.mount(app, authorize);
    mountActionHttp(app, this.log, () => this.stream.published(), authorize, () => this.closed);
  }

  /** Resumes webhook deliveries left pending by an earlier run. */
  start(): void {
    this.webhooks.start();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.webhooks.close();
    this.closed = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = null;
    await this.tail;
    this.stream.closeAll();
  }

  subscriberCount(): number {
    return this.stream.count();
  }

  /** Highest seq that subscribers can see. */
  lastSeq(): number {
    return this.stream.published();
  }

  oldestSeq(): number {
    return this.log.oldest();
  }

  pendingDeliveries(): number {
    return this.webhooks.pendingCount();
  }

  streamStats(): StreamStats {
    return this.stream.streamStats();
  }

  private async appendUndeliverable(seq: number, action: string, device: string): Promise<void> {
    const bytes = this.log.get(seq);
    const orig = bytes === undefined ? undefined : decodeRecord(bytes);
    await this.append([
      {
        ts: orig?.ts ?? this.now(),
        rule: orig?.rule ?? '',
        version: orig?.version ?? 0,
        device,
        state: 'undeliverable',
        values: orig?.values ?? {},
        actions: orig?.actions ?? [action],
        attrs: orig?.attrs ?? {},
        action,
        ref: seq,
      },
    ]);
  }
}
