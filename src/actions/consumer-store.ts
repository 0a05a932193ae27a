// Durable consumer positions: the last seq each named consumer acknowledged.
import type { Database, RootDatabase } from 'lmdb';

export class ConsumerStore {
  private readonly db: Database<number, string>;
  /** Positions written but maybe not yet committed; lmdb reads see only committed data. */
  private readonly pending = new Map<string, number>();

  constructor(root: RootDatabase) {
    this.db = root.openDB<number, string>({ name: 'consumers', encoding: 'msgpack' });
  }

  /** Last acknowledged seq, or undefined for a consumer never seen. */
  position(name: string): number | undefined {
    const p = this.pending.get(name);
    if (p !== undefined) return p;
    const v = this.db.get(name);
    return typeof v === 'number' ? v : undefined;
  }

  /**
   * Positions only move forward: a late or repeated ack from an older connection of the
   * same consumer must not rewind it.
   */
  ack(name: string, seq: number): Promise<boolean> | undefined {
    const cur = this.position(name);
    if (cur !== undefined && seq <= cur) return undefined;
    return this.write(name, seq);
  }

  /** Registers a new consumer at `seq` (what it has already "seen"). */
  create(name: string, seq: number): Promise<boolean> {
    return this.write(name, seq);
  }

  private write(name: string, seq: number): Promise<boolean> {
    this.pending.set(name, seq);
    const done = this.db.put(name, seq);
    void done.then(
      () => {
        if (this.pending.get(name) === seq) this.pending.delete(name);
      },
      () => undefined,
    );
    return done;
  }
}
