// The device registry: attributes and tokens per device id, in the engine's LMDB root
// (sub-database `devices`), so it survives restarts.
//
// Reads are synchronous because ingress consults the registry on every device upgrade.
// Writes are LMDB's asynchronous batched commits; until a write commits, LMDB's own reads
// do not see it, so writes in flight are kept in an overlay that every read consults first.
// That makes `ensure` (auto-registration on the ingest path) cost no disk wait while still
// giving read-your-writes to everyone on the main thread.
import { timingSafeEqual } from 'node:crypto';
import type { Database, RootDatabase } from 'lmdb';
import { DamperError } from '../errors.js';
import { isValidDeviceId, toDeviceRecord, type DeviceRecord } from './validate.js';

export type { DeviceRecord } from './validate.js';
export { isValidDeviceId, toDeviceRecord } from './validate.js';

/** A write in flight: the record being stored, or null for a removal. */
type Pending = { value: DeviceRecord | null };

export class DeviceRegistry {
  private readonly db: Database<DeviceRecord, string>;
  private readonly pending = new Map<string, Pending>();
  private inFlight = new Set<Promise<unknown>>();
  /** Background (ensure) writes that failed; for operators, via metrics or logs. */
  failedWrites = 0;

  constructor(root: RootDatabase) {
    this.db = root.openDB<DeviceRecord, string>({ name: 'devices' });
  }

  get(id: string): DeviceRecord | undefined {
    const p = this.pending.get(id);
    if (p !== undefined) return p.value ?? undefined;
    if (!isValidDeviceId(id)) return undefined;
    return this.db.get(id);
  }

  /** Cheaper than get() for per-event checks (gateway routing): decodes no record. */
  has(id: string): boolean {
    const p = this.pending.get(id);
    if (p !== undefined) return p.value !== null;
    return isValidDeviceId(id) && this.db.doesExist(id);
  }

  /** Creates or replaces the record; resolves once it is committed. */
  put(id: string, rec: DeviceRecord): Promise<void> {
    if (!isValidDeviceId(id)) {
      return Promise.reject(new DamperError('DAMPER_ERR_BAD_DEVICE', 'bad device id'));
    }
    let clean: DeviceRecord;
    try {
      clean = toDeviceRecord(rec);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.write(id, clean).then(() => undefined);
  }

  /** Resolves true when the device existed, once the removal is committed. */
  async remove(id: string): Promise<boolean> {
    const existed = this.get(id) !== undefined;
    if (!existed) return false;
    await this.write(id, null);
    return true;
  }

  /** Returns the device's record, registering it with no attributes when unknown. */
  ensure(id: string): DeviceRecord {
    const found = this.get(id);
    if (found !== undefined) return found;
    if (!isValidDeviceId(id)) throw new DamperError('DAMPER_ERR_BAD_DEVICE', 'bad device id');
    const rec: DeviceRecord = { attrs: {} };
    // The ingest path must not wait on the disk; a failed write is counted, and the next
    // ensure() of the device (after the overlay entry is gone) tries again.
    this.write(id, rec).catch(() => {
      this.failedWrites++;
    });
    return rec;
  }

  /** True when the device is registered with a token equal to `token`. */
  checkToken(id: string, token: string | undefined): boolean {
    if (typeof token !== 'string' || token.length === 0) return false;
    const rec = this.get(id);
    if (rec?.token === undefined) return false;
    const a = Buffer.from(rec.token);
    const b = Buffer.from(token);
    // Constant time in the token's content, so its bytes cannot be probed by timing.
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Every registered id (committed or in flight), in key order of the store then new ones. */
  *ids(): Iterable<string> {
    for (const id of this.db.getKeys()) {
      const p = this.pending.get(id);
      if (p === undefined || p.value !== null) yield id;
    }
    for (const [id, p] of this.pending) {
      if (p.value !== null && this.db.get(id) === undefined) yield id;
    }
  }

  /** Number of registered devices, without reading every key. */
  count(): number {
    let n = this.db.getKeysCount();
    for (const [id, p] of this.pending) {
      const stored = this.db.doesExist(id);
      if (p.value === null && stored) n--;
      else if (p.value !== null && !stored) n++;
    }
    return n;
  }

  /** Up to `limit` ids greater than `after`, ascending: one page of the device list. */
  page(after: string, limit: number): string[] {
    // Ids not committed yet are few; merge them into the store's ordered key range.
    const added = [...this.pending]
      .filter(([id, p]) => p.value !== null && id > after && !this.db.doesExist(id))
      .map(([id]) => id)
      .sort();
    const out: string[] = [];
    let a = 0;
    for (const id of this.db.getKeys({ start: after })) {
      if (out.length >= limit) break;
      if (id <= after) continue;
      while (a < added.length && added[a]! < id && out.length < limit) out.push(added[a++]!);
      if (out.length >= limit) break;
      if (this.pending.get(id)?.value === null) continue;
      out.push(id);
    }
    while (a < added.length && out.length < limit) out.push(added[a++]!);
    return out;
  }

  /** Resolves when every write issued so far has committed (used by drain on shutdown). */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
    }
    await this.db.flushed;
  }

  private write(id: string, value: DeviceRecord | null): Promise<boolean> {
    const entry: Pending = { value };
    this.pending.set(id, entry);
    // LMDB applies async writes in call order, so the last write issued is what commits.
    const op = value === null ? this.db.remove(id) : this.db.put(id, value);
    const done = op.finally(() => {
      if (this.pending.get(id) === entry) this.pending.delete(id);
      this.inFlight.delete(done);
    });
    this.inFlight.add(done);
    return done;
  }
}
