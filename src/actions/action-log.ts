// The durable action log: msgpack record bytes keyed by seq in the `actions` database.
// seq is global and strictly +1; the highest seq ever pruned is kept in `actions-meta`
// so numbering continues after a restart even when retention emptied the log.
import type { Database, RootDatabase } from 'lmdb';

export interface RetentionOptions {
  maxAgeMs: number;
  maxRecords: number;
}

export const DEFAULT_RETENTION: RetentionOptions = {
  maxAgeMs: 7 * 24 * 3600 * 1000,
  maxRecords: 10_000_000,
};

/** Records removed per retention pass, so a pass never stalls the main thread. */
const PRUNE_BUDGET = 20_000;
const META_PRUNED = 'pruned';

export interface LogEntry {
  seq: number;
  bytes: Buffer;
}

export class ActionLog {
  private readonly db: Database<Buffer, number>;
  private readonly meta: Database<number, string>;
  private nextSeq: number;
  private oldestSeq: number;
  /** Highest seq whose write has committed; retention never touches anything above it. */
  private committedSeq: number;

  constructor(
    root: RootDatabase,
    private readonly retention: RetentionOptions,
    private readonly timeOf: (bytes: Buffer) => number,
  ) {
    this.db = root.openDB<Buffer, number>({ name: 'actions', encoding: 'binary' }); // ordered-binary keys: seq may pass 2^32
    this.meta = root.openDB<number, string>({ name: 'actions-meta', encoding: 'msgpack' });
    let last = 0;
    for (const key of this.db.getKeys({ reverse: true, limit: 1 })) last = key;
    let first = 0;
    for (const key of this.db.getKeys({ limit: 1 })) first = key;
    const pruned = this.meta.get(META_PRUNED) ?? 0;
    last = Math.max(last, pruned);
    this.nextSeq = last + 1;
    this.committedSeq = last;
    this.oldestSeq = first > 0 ? first : last + 1;
  }

  /** Reserves `n` consecutive seqs and returns the first. */
  reserve(n: number): number {
    const first = this.nextSeq;
    this.nextSeq += n;
    return first;
  }

  /** Gives back seqs from `first` on; only valid before anything else reserved more. */
  unreserve(first: number): void {
    this.nextSeq = first;
  }

  /** Queues a write; lmdb batches every write of this turn into one transaction. */
  write(seq: number, bytes: Buffer): Promise<boolean> {
    return this.db.put(seq, bytes);
  }

  markCommitted(seq: number): void {
    if (seq > this.committedSeq) this.committedSeq = seq;
  }

  /** The oldest retained seq; equals last + 1 when the log holds nothing. */
  oldest(): number {
    return this.oldestSeq;
  }

  /** The last committed seq (0 when nothing was ever written). */
  last(): number {
    return this.committedSeq;
  }

  /** Committed entries with `from <= seq <= to`, at most `limit`, ascending. */
  read(from: number, to: number, limit: number): Iterable<LogEntry> {
    const start = Math.max(from, this.oldestSeq);
    if (start > to || limit <= 0) return [];
    return this.db
      .getRange({ start, end: to + 1, limit, snapshot: false })
      .map(({ key, value }) => ({ seq: key, bytes: value }));
  }

  get(seq: number): Buffer | undefined {
    if (seq < this.oldestSeq) return undefined;
    return this.db.get(seq);
  }

  /** Applies retention by count then age; returns how many records it removed. */
  prune(nowMs: number): number {
    let budget = PRUNE_BUDGET;
    let removeTo = this.oldestSeq - 1;
    const excess = this.committedSeq - this.oldestSeq + 1 - this.retention.maxRecords;
    if (excess > 0) removeTo += Math.min(excess, budget);
    budget -= removeTo - (this.oldestSeq - 1);
    if (budget > 0) {
      const cutoff = nowMs - this.retention.maxAgeMs;
      for (const { seq, bytes } of this.read(removeTo + 1, this.committedSeq, budget)) {
        if (this.timeOf(bytes) >= cutoff) break;
        removeTo = seq;
      }
    }
    const removed = removeTo - (this.oldestSeq - 1);
    if (removed <= 0) return 0;
    for (let seq = this.oldestSeq; seq <= removeTo; seq++) void this.db.remove(seq);
    void this.meta.put(META_PRUNED, Math.max(removeTo, this.meta.get(META_PRUNED) ?? 0));
    this.oldestSeq = removeTo + 1;
    return removed;
  }
}
