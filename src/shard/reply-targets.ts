// Where a worker's ack/error record goes: R_CONN in ring records and the reply id in
// outbox records is a key into this table. A device WebSocket is one target; a frame split
// across shards (gateways, HTTP bodies naming several devices) gets a Ticket that joins
// its parts and answers once all are applied.
export interface ReplyTarget {
  /** The frame's events are applied (`seq` NaN for frames without one). */
  ack(seq: number, accepted: number, text: boolean): void;
  /** The frame was rejected whole (`seq` NaN / `index` -1 when not applicable). */
  error(code: string, message: string, seq: number, index: number, text: boolean): void;
}

export class ReplyTargets {
  private readonly targets = new Map<number, ReplyTarget>();
  private next = 1;
  private readonly flushers: Array<() => void> = [];

  /**
   * `fn` runs after each drain task's replies were handed out, so targets may hold their
   * sends and write them per connection in one corked syscall.
   */
  onFlush(fn: () => void): void {
    this.flushers.push(fn);
  }

  flush(): void {
    for (let i = 0; i < this.flushers.length; i++) this.flushers[i]();
  }

  add(target: ReplyTarget): number {
    let id = this.next;
    while (this.targets.has(id) || id === 0) id = (id + 1) >>> 0;
    this.next = (id + 1) >>> 0;
    this.targets.set(id, target);
    return id;
  }

  get(id: number): ReplyTarget | undefined {
    return this.targets.get(id);
  }

  remove(id: number): void {
    this.targets.delete(id);
  }

  get size(): number {
    return this.targets.size;
  }
}

/** Joins the parts of one frame that went to several shards. */
export class Ticket implements ReplyTarget {
  id = 0;
  private accepted = 0;
  private failed: { code: string; message: string } | null = null;

  constructor(
    private parts: number,
    private readonly done: (accepted: number, failed: { code: string; message: string } | null) => void,
  ) {}

  ack(_seq: number, accepted: number): void {
    this.accepted += accepted;
    this.part();
  }

  error(code: string, message: string): void {
    // Parts were validated before routing; a worker-side failure is still reported.
    this.failed ??= { code, message };
    this.part();
  }

  private part(): void {
    if (--this.parts === 0) this.done(this.accepted, this.failed);
  }
}
