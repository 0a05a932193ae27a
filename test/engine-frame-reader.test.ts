// The worker's allocation-free msgpack reader must agree with msgpackr + FrameWalker on
// every frame: same verdict, code, index, seq and events.
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { NO_METRIC } from '../assembly/layout.js';
import { FrameWalker } from '../src/shard/frame-walker.js';
import { MetricTable } from '../src/shard/metric-table.js';
import { MsgpackFrameReader } from '../src/shard/msgpack-frame-reader.js';

const METRICS = ['temperature', 'humidity', 'x'];
const table = new MetricTable(METRICS);
const packr = new Packr({ useRecords: false, variableMapSize: true });

type Ev = [number, number, number];

function viaReader(bytes: Uint8Array, received: number) {
  const r = new MsgpackFrameReader(table);
  const buf = new Uint8Array(bytes.length + 16);
  buf.set(bytes, 8);
  r.bind(buf, new DataView(buf.buffer));
  const events: Ev[] = [];
  const n1 = r.read(8, 8 + bytes.length, 7, received, null);
  const verdict = { n: n1, code: n1 < 0 ? r.code : 0, index: n1 < 0 ? r.index : -1, seq: r.seq, acked: n1 < 0 ? false : r.acked };
  if (n1 >= 0) {
    r.read(8, 8 + bytes.length, 7, received, { push: (_slot, m, t, v) => events.push([m, t, v]) });
  }
  return { ...verdict, events };
}

function viaWalker(bytes: Uint8Array, received: number) {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch {
    return { n: -1, code: 0, index: -1, seq: NaN, acked: false, events: [] as Ev[] };
  }
  const w = new FrameWalker();
  const events: Ev[] = [];
  const n = w.walk(value, false, received, null);
  if (n >= 0) {
    w.walk(value, false, received, { onEvent: (_d, m, t, v) => events.push([METRICS.includes(m) ? METRICS.indexOf(m) : NO_METRIC, t, v]) });
  }
  return { n, code: n < 0 ? w.code : 0, index: n < 0 ? w.index : -1, seq: w.seq, acked: n < 0 ? false : w.acked, events };
}

const metric = fc.oneof(fc.constantFrom(...METRICS), fc.constantFrom('other.metric', 'bad metric', '', 'a'.repeat(65)));
const num = fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.double(), fc.constant(1_763_800_000_123), fc.constant(2 ** 40));
const anyValue = fc.oneof(num, metric, fc.constant(null), fc.boolean(), fc.constant(undefined));
const event = fc.oneof(
  fc.record({ m: metric, v: anyValue, t: fc.option(num, { nil: undefined }) }, { requiredKeys: [] }),
  fc.record({ t: fc.option(num, { nil: undefined }), values: fc.dictionary(metric, anyValue, { maxKeys: 3 }) }, { requiredKeys: ['values'] }),
  fc.tuple(fc.oneof(num, fc.constant(null)), metric, anyValue),
  fc.tuple(num, metric),
  num,
);
const frame = fc.oneof(
  event,
  fc.array(event, { maxLength: 5 }),
  fc.record({ seq: fc.oneof(fc.nat(), fc.constant(-1), fc.constant(1.5), fc.constant('x')), events: fc.oneof(fc.array(event, { maxLength: 5 }), fc.constant(3)) }, { requiredKeys: ['seq'] }),
);

describe('MsgpackFrameReader', () => {
  it('agrees with msgpackr + FrameWalker on random frames', () => {
    fc.assert(
      fc.property(frame, (f) => {
        const bytes = packr.pack(f);
        const a = viaReader(bytes, 42);
        const b = viaWalker(bytes, 42);
        expect(a).toEqual(b);
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects truncated and garbage bytes as bad_frame without throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const r = viaReader(bytes, 0);
        if (r.n < 0) expect([0, 1]).toContain(r.code);
        expect(r.n >= 0).toBe(viaWalker(bytes, 0).n >= 0);
      }),
      { numRuns: 2000 },
    );
    const good = packr.pack({ seq: 1, events: [[1, 'x', 2]] });
    for (let cut = 0; cut < good.length; cut++) expect(viaReader(good.subarray(0, cut), 0)).toMatchObject({ n: -1, code: 0 });
  });
});
