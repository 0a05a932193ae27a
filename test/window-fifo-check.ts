// What the value FIFO of a window cache (assembly/kernel/window-fifo.ts) promises, checked
// from the outside: for every device and every group with a FIFO and a live cache record,
// the FIFO accounts for each occupied bucket of the cached window once (missing + entries =
// occupied), every entry not marked multi holds the values its bucket's ring record was
// built from (one, or two with a second-value slot: count, n, sum 0 + a (+ b), min and
// max, bit for bit), and every second-value slot in use belongs to such an entry. A take-out or merge that
// trusts a wrong entry would otherwise only show where it changes a rule's outcome.
import * as L from '../assembly/layout.js';
import { planLayout } from '../src/kernel/encode-plan.js';
import type { ProgramSpec } from '../src/kernel/program-spec.js';

// the device directory in the kernel-private header (assembly/kernel/private.ts)
const K_DIR = 4, K_DIR_CAP = 8, K_PER_PAGE = 12, K_STRIDE = 16;
const ID_TAG = -(2n ** 63n);

const bits = (x: number): bigint => { const v = new DataView(new ArrayBuffer(8)); v.setFloat64(0, x); return v.getBigUint64(0); };

/** The first broken FIFO promise in `memory` running `spec`, or null. */
export function fifoViolation(memory: WebAssembly.Memory, spec: ProgramSpec): string | null {
  const v = new DataView(memory.buffer);
  const priv = L.HEADER_BASE + L.H_KERNEL_PRIVATE;
  const dir = v.getUint32(priv + K_DIR, true), cap = v.getUint32(priv + K_DIR_CAP, true);
  const perPage = v.getUint32(priv + K_PER_PAGE, true), stride = v.getUint32(priv + K_STRIDE, true);
  const groups = planLayout(spec).groups.filter((g) => (g.flags & L.GF_FIFO) !== 0);
  if (groups.length === 0) return null;
  for (let page = 0; page < cap; page++) {
    const p = v.getUint32(dir + 4 * page, true);
    if (p === 0) continue;
    for (let j = 0; j < perPage; j++) {
      const d = p + j * stride;
      if ((v.getUint32(d + L.D_FLAGS, true) & L.DF_EXISTS) === 0) continue;
      for (const g of groups) {
        const broken = groupViolation(v, d, g);
        if (broken) return `device slot ${page * perPage + j}, group ${g.key}: ${broken}`;
      }
    }
  }
  return null;
}

function groupViolation(v: DataView, d: number, g: ReturnType<typeof planLayout>['groups'][number]): string | null {
  const c = d + g.cacheOff;
  const tag = v.getBigInt64(c, true);
  if (tag === 0n) return null;
  const hi = tag ^ ID_TAG;
  const t = c + g.recBytes;
  const occ = v.getBigUint64(t + L.CT_OCCUPIED, true);
  const f = t + L.CT_FIFO;
  const head = v.getUint8(f + L.FH_HEAD), count = v.getUint8(f + L.FH_COUNT), missing = v.getUint8(f + L.FH_MISSING), multi = v.getUint8(f + L.FH_MULTI);
  const ring = d + g.stateOff + L.GROUP_HEADER_BYTES;
  const nb = BigInt(g.nb);
  // the occupied buckets of the cached window, oldest first
  const occupied: { k: bigint; rec: number }[] = [];
  for (let k = hi - nb + 1n; k <= hi; k++) {
    const s = ((k % nb) + nb) % nb;
    if (((occ >> s) & 1n) === 0n) continue;
    const rec = ring + Number(s) * g.recBytes;
    if ((v.getBigInt64(rec, true) ^ ID_TAG) !== k) return `occupied slot ${s} does not hold bucket ${k}`;
    occupied.push({ k, rec });
  }
  if (head >= L.FIFO_K || count > L.FIFO_K) return `header head ${head} count ${count}`;
  if (missing + count !== occupied.length) return `${missing} missing + ${count} entries for ${occupied.length} occupied buckets`;
  const owners = Array.from({ length: L.FIFO_SECONDS }, (_, i) => v.getUint8(f + L.FH_OWNER + i));
  const live = new Set<number>();
  for (let i = missing; i < occupied.length; i++) {
    const pos = (head + i - missing) % L.FIFO_K;
    if ((multi >> pos) & 1) continue;
    live.add(pos);
    // the record of the entry's values, as addEvent builds it from a reset record
    const values = [v.getFloat64(f + L.FIFO_VALUES + 8 * pos, true)];
    const sec = owners.indexOf(pos + 1);
    if (sec >= 0) values.push(v.getFloat64(f + L.FIFO_SECOND_VALUES + 8 * sec, true));
    let sum = 0, lo = Infinity, hi = -Infinity;
    for (const x of values) { sum += x; if (x < lo) lo = x; if (x > hi) hi = x; }
    const { k, rec } = occupied[i];
    const at = (b: number): number => rec + g.blockOff[b];
    const count = (g.mask & (1 << L.BLK_CNT)) === 0 || v.getFloat64(at(L.BLK_CNT), true) === values.length;
    const sums = (g.mask & (1 << L.BLK_SUM)) === 0
      || (v.getFloat64(at(L.BLK_SUM), true) === values.length && bits(v.getFloat64(at(L.BLK_SUM) + 8, true)) === bits(sum));
    const ext = (g.mask & (1 << L.BLK_MINMAX)) === 0
      || (bits(v.getFloat64(at(L.BLK_MINMAX), true)) === bits(lo) && bits(v.getFloat64(at(L.BLK_MINMAX) + 8, true)) === bits(hi));
    if (!(count && sums && ext)) return `entry ${pos} (${values.join(', ')}) is not what bucket ${k} holds`;
  }
  // a slot held for an entry that is gone (or is read from its ring) would never be freed
  for (const [i, o] of owners.entries()) if (o !== 0 && !live.has(o - 1)) return `second-value slot ${i} held for position ${o - 1}, not a live entry`;
  if (owners[0] !== 0 && owners[0] === owners[1]) return `both second-value slots held for position ${owners[0] - 1}`;
  return null;
}
