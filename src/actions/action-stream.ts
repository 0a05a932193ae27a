// ws /v1/actions: live push while a subscriber keeps up, catch-up from the log when it
// resumes (`from`, `consumer`) or after it fell behind. A subscriber that is behind gets
// nothing queued in memory: only its cursor (next seq to consider) is kept, and the log
// feeds it on `drain`. So a stalled socket costs at most `bufferBytes` of uWS backpressure.
import uWS from 'uWebSockets.js';
import type { ActionLog } from './action-log.js';
import type { ConsumerStore } from './consumer-store.js';
import { decodeFrame, decodeRecord, encodeFrame, recordJson } from './record-codec.js';
import { keepRecord, parseStreamQuery, type RecordFilter } from './stream-query.js';
import type { ActionRecord } from './types.js';

export interface StreamOptions {
  /** Backpressure per socket past which pushing stops until `drain`. */
  bufferBytes: number;
  onConnections?: (delta: number) => void;
}

/** A batch of committed records in seq order, with their stored msgpack bytes. */
export interface PublishBatch {
  records: ActionRecord[];
  bytes: Buffer[];
  /** JSON text per record, filled on first need and shared by all JSON subscribers. */
  json: Array<string | undefined>;
}

export interface StreamStats {
  /** Times a live subscriber was switched to catch-up because of backpressure. */
  pauses: number;
  /** Largest backpressure seen on any subscriber right after a send. */
  maxBufferedBytes: number;
}

interface Subscriber {
  ws: uWS.WebSocket<Subscriber> | null;
  filter: RecordFilter;
  msgpack: boolean;
  consumer: string | null;
  /** Every seq below has been sent or skipped. */
  cursor: number;
  live: boolean;
  closed: boolean;
  scheduled: boolean;
  /** Set at upgrade when `from` is already gone: sent as the first and last frame. */
  outOfRange: boolean;
}

/** Records read from the log per chunk, and scanned per turn before yielding. */
const CATCHUP_CHUNK = 256;
const CATCHUP_SCAN_BUDGET = 20_000;
const CLOSE_OUT_OF_RANGE = 4410;

export class ActionStream {
  private readonly subs = new Set<Subscriber>();
  private head: number;
  private closed = false;
  private readonly stats: StreamStats = { pauses: 0, maxBufferedBytes: 0 };

  constructor(
    private readonly log: ActionLog,
    private readonly consumers: ConsumerStore,
    private readonly opts: StreamOptions,
  ) {
    this.head = log.last();
  }

  /** Highest published seq: what subscribers and GET can see. */
  published(): number {
    return this.head;
  }

  count(): number {
    return this.subs.size;
  }

  streamStats(): StreamStats {
    return { ...this.stats };
  }

  mount(app: uWS.TemplatedApp, authorize: (req: uWS.HttpRequest) => boolean): void {
    app.ws<Subscriber>('/v1/actions', {
      compression: uWS.DISABLED,
      maxPayloadLength: 64 * 1024,
      // Our own bound stops pushing long before this; uWS would silently drop past it.
      maxBackpressure: 64 * 1024 * 1024,
      closeOnBackpressureLimit: 0,
      idleTimeout: 120,
      upgrade: (res, req, context) => this.upgrade(res, req, context, authorize),
      open: (ws) => this.open(ws),
      message: (ws, message, isBinary) => this.message(ws, message, isBinary),
      drain: (ws) => {
        const sub = ws.getUserData();
        if (!sub.live) this.catchUp(sub);
      },
      close: (ws) => {
        const sub = ws.getUserData();
        sub.closed = true;
        sub.ws = null;
        if (this.subs.delete(sub)) this.opts.onConnections?.(-1);
      },
    });
  }

  /** Pushes committed records to live subscribers; behind ones catch up from the log. */
  publish(batch: PublishBatch): void {
    const n = batch.records.length;
    if (n === 0 || this.closed) return;
    const last = batch.records[n - 1]!.seq;
    if (last > this.head) this.head = last;
    for (const sub of this.subs) {
      if (!sub.live || sub.ws === null) continue;
      const ws = sub.ws;
      ws.cork(() => this.pushLive(sub, ws, batch));
    }
  }

  /** Ends every subscriber; later upgrades are refused (the log may be gone). */
  closeAll(): void {
    this.closed = true;
    for (const sub of [...this.subs]) sub.ws?.end(1001, 'server shutting down');
  }

  private pushLive(sub: Subscriber, ws: uWS.WebSocket<Subscriber>, batch: PublishBatch): void {
    const { records } = batch;
    for (let i = 0; i < records.length; i++) {
      const rec = records[i]!;
      if (rec.seq < sub.cursor) continue;
      if (!keepRecord(sub.filter, rec.rule, rec.device)) {
        sub.cursor = rec.seq + 1;
        continue;
      }
      if (ws.getBufferedAmount() > this.opts.bufferBytes) return this.fallBehind(sub);
      let status: number;
      if (sub.msgpack) {
        status = ws.send(batch.bytes[i]!, true);
      } else {
        let text = batch.json[i];
        if (text === undefined) batch.json[i] = text = recordJson(rec);
        status = ws.send(text, false);
      }
      if (status === 2) return this.fallBehind(sub);
      sub.cursor = rec.seq + 1;
      this.noteBuffered(ws);
    }
  }

  private fallBehind(sub: Subscriber): void {
    sub.live = false;
    this.stats.pauses++;
  }

  private noteBuffered(ws: uWS.WebSocket<Subscriber>): void {
    const b = ws.getBufferedAmount();
    if (b > this.stats.maxBufferedBytes) this.stats.maxBufferedBytes = b;
  }

  private scheduleCatchUp(sub: Subscriber): void {
    if (sub.scheduled) return;
    sub.scheduled = true;
    setImmediate(() => {
      sub.scheduled = false;
      this.catchUp(sub);
    });
  }

  /** Feeds a subscriber from the log until it is current (then live) or backpressured. */
  private catchUp(sub: Subscriber): void {
    const ws = sub.ws;
    if (sub.closed || sub.live || ws === null || this.closed) return;
    if (sub.cursor < this.log.oldest() && sub.cursor <= this.head) {
      this.sendOutOfRange(sub, ws);
      return;
    }
    ws.cork(() => {
      let scanned = 0;
      while (sub.cursor <= this.head) {
        if (ws.getBufferedAmount() > this.opts.bufferBytes) return; // resumed by drain
        if (scanned >= CATCHUP_SCAN_BUDGET) return this.scheduleCatchUp(sub);
        let n = 0;
        for (const { seq, bytes } of this.log.read(sub.cursor, this.head, CATCHUP_CHUNK)) {
          n++;
          if (!this.sendStored(sub, ws, bytes)) return;
          sub.cursor = seq + 1;
        }
        scanned += n;
        // Fewer than asked: nothing else is stored up to head (seqs of failed writes).
        if (n < CATCHUP_CHUNK) sub.cursor = this.head + 1;
      }
      sub.live = true;
    });
  }

  /** Sends one stored record if the filter keeps it; false when backpressure stops us. */
  private sendStored(sub: Subscriber, ws: uWS.WebSocket<Subscriber>, bytes: Buffer): boolean {
    const f = sub.filter;
    let rec: ActionRecord | null = null;
    if (f.rules !== null || f.device !== null || !sub.msgpack) {
      rec = decodeRecord(bytes);
      if (!keepRecord(f, rec.rule, rec.device)) return true;
    }
    if (ws.getBufferedAmount() > this.opts.bufferBytes) return false;
    const status = sub.msgpack ? ws.send(bytes, true) : ws.send(recordJson(rec!), false);
    if (status === 2) return false;
    this.noteBuffered(ws);
    return true;
  }

  private sendOutOfRange(sub: Subscriber, ws: uWS.WebSocket<Subscriber>): void {
    const oldest = this.log.oldest();
    this.sendFrame(sub, ws, {
      error: {
        code: 'out_of_range',
        message: `seq ${sub.cursor} is no longer retained; the oldest retained is ${oldest}`,
        oldest,
      },
    });
    ws.end(CLOSE_OUT_OF_RANGE, 'out_of_range');
  }

  private sendFrame(sub: Subscriber, ws: uWS.WebSocket<Subscriber>, frame: object): void {
    if (sub.msgpack) ws.send(encodeFrame(frame), true);
    else ws.send(JSON.stringify(frame), false);
  }

  private upgrade(
    res: uWS.HttpResponse,
    req: uWS.HttpRequest,
    context: uWS.us_socket_context_t,
    authorize: (req: uWS.HttpRequest) => boolean,
  ): void {
    if (this.closed) {
      res.writeStatus('503 Service Unavailable').writeHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: { code: 'unavailable', message: 'action service is shutting down' } }));
      return;
    }
    if (!authorize(req)) {
      res.writeStatus('401 Unauthorized').writeHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'admin token required' } }));
      return;
    }
    const parsed = parseStreamQuery((k) => req.getQuery(k));
    if (!parsed.ok) {
      res.writeStatus('400 Bad Request').writeHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: { code: 'bad_request', message: parsed.message } }));
      return;
    }
    const q = parsed.query;
    // `from` wins over a stored consumer position: it is the explicit request.
    let cursor = this.head + 1;
    if (q.from !== null) {
      // from=0: "everything you still have", never out of range.
      cursor = q.from === 0 ? this.log.oldest() : q.from;
    } else if (q.consumer !== null) {
      const pos = this.consumers.position(q.consumer);
      if (pos === undefined) void this.consumers.create(q.consumer, this.head);
      else cursor = pos + 1;
    }
    const oldest = this.log.oldest();
    const sub: Subscriber = {
      ws: null,
      filter: q.filter,
      msgpack: q.format === 'msgpack',
      consumer: q.consumer,
      cursor,
      live: false,
      closed: false,
      scheduled: false,
      // Only a gap that once held records is out of range; from=0 on a fresh log is not.
      outOfRange: cursor < oldest && oldest > 1 && cursor <= this.head,
    };
    res.upgrade(
      sub,
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  }

  private open(ws: uWS.WebSocket<Subscriber>): void {
    const sub = ws.getUserData();
    sub.ws = ws;
    if (sub.outOfRange) return this.sendOutOfRange(sub, ws);
    this.subs.add(sub);
    this.opts.onConnections?.(1);
    if (sub.cursor > this.head) sub.live = true;
    else this.catchUp(sub);
  }

  private message(ws: uWS.WebSocket<Subscriber>, message: ArrayBuffer, isBinary: boolean): void {
    const sub = ws.getUserData();
    let msg: unknown;
    try {
      msg = isBinary ? decodeFrame(new Uint8Array(message)) : JSON.parse(Buffer.from(message).toString('utf8'));
    } catch {
      return this.sendFrame(sub, ws, { error: { code: 'bad_frame', message: 'not JSON or msgpack' } });
    }
    const ack = typeof msg === 'object' && msg !== null ? (msg as { ack?: unknown }).ack : undefined;
    if (typeof ack !== 'number' || !Number.isSafeInteger(ack) || ack < 0) {
      return this.sendFrame(sub, ws, { error: { code: 'bad_request', message: 'expected {"ack": SEQ}' } });
    }
    if (sub.consumer === null) {
      return this.sendFrame(sub, ws, { error: { code: 'bad_request', message: 'ack needs consumer=NAME' } });
    }
    if (ack > this.head) {
      return this.sendFrame(sub, ws, {
        error: { code: 'bad_request', message: `ack ${ack} is beyond the last record ${this.head}` },
      });
    }
    void this.consumers.ack(sub.consumer, ack);
  }
}
