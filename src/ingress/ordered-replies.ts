// Replies of one gateway connection leave in frame order: a frame split across shards may
// finish after a later one, but SPEC §3.1 promises that an ack covers every earlier frame.
export class OrderedReplies {
  private readonly queue: Array<{ msg: object | null; text: boolean }> = [];

  constructor(private readonly send: (msg: object, text: boolean) => void) {}

  /** Reserves the next place; call `fill` on the returned entry when the reply is known. */
  reserve(text: boolean): { msg: object | null; text: boolean } {
    const entry = { msg: null, text };
    this.queue.push(entry);
    return entry;
  }

  /** Drops a reservation that will never be filled (it must be the last one). */
  cancel(entry: { msg: object | null }): void {
    if (this.queue[this.queue.length - 1] === entry) this.queue.pop();
    this.flush();
  }

  fill(entry: { msg: object | null }, msg: object): void {
    entry.msg = msg;
    this.flush();
  }

  private flush(): void {
    let n = 0;
    while (n < this.queue.length && this.queue[n].msg !== null) {
      const e = this.queue[n];
      this.send(e.msg as object, e.text);
      n++;
    }
    if (n > 0) this.queue.splice(0, n);
  }
}
