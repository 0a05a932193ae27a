// A real `ws` client for /v1/ingest that speaks msgpack (or JSON) and lets tests await
// replies in order.
import { pack, unpack } from 'msgpackr';
import WebSocket from 'ws';

export type Reply = Record<string, unknown>;

export class IngestClient {
  readonly replies: Reply[] = [];
  closeCode: number | null = null;
  private waiters: Array<() => void> = [];
  private seq = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.replies.push((isBinary ? unpack(data) : JSON.parse(data.toString())) as Reply);
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  /** Opens `${wsUrl}/v1/ingest` with `query` (e.g. `device=th-1`). Rejects on a refused upgrade with its status. */
  static connect(wsUrl: string, query = '', headers: Record<string, string> = {}): Promise<IngestClient> {
    const ws = new WebSocket(`${wsUrl}/v1/ingest${query === '' ? '' : `?${query}`}`, { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new IngestClient(ws)));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }

  /** Sends a msgpack frame. */
  send(frame: unknown): void {
    this.ws.send(pack(frame));
  }

  sendJson(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  /** Sends `{seq, events}` with the next seq (or the given one) and returns that seq. */
  sendBatch(events: unknown[], seq = ++this.seq): number {
    this.send({ seq, events });
    return seq;
  }

  /** Sends an acknowledged batch and waits for its ack or nack. */
  async request(events: unknown[], timeoutMs = 10_000): Promise<Reply> {
    const seq = this.sendBatch(events);
    return this.waitFor((r) => r.ack === seq || r.nack === seq, timeoutMs);
  }

  /** The first reply (already received or future) matching `pred`, removed from `replies`. */
  async waitFor(pred: (r: Reply) => boolean, timeoutMs = 10_000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.replies.findIndex(pred);
      if (i >= 0) return this.replies.splice(i, 1)[0];
      if (this.closeCode !== null) throw new Error(`connection closed (${this.closeCode}) while waiting`);
      if (Date.now() > deadline) throw new Error(`no matching reply in ${timeoutMs} ms; got ${JSON.stringify(this.replies)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** The next reply in arrival order. */
  next(timeoutMs = 10_000): Promise<Reply> {
    return this.waitFor(() => true, timeoutMs);
  }

  /** Resolves with the close code once the server closed the connection. */
  async closed(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === null) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.closeCode;
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
