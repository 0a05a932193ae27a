// Pipelined acknowledged batches from many connections at once: results of drain tasks are
// taken early (TaskStatus polling) and acks go out held and corked per connection, so this
// checks what those must keep: one reply per seq, in seq order, nacks in their place, and
// every acked event applied exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestClient, startEngine, until, type InProcessEngine } from './helpers/index.js';

let e: InProcessEngine;
beforeAll(async () => {
  e = await startEngine({ flags: { shards: 4 } });
});
afterAll(async () => {
  await e?.stop();
});

async function applied(): Promise<number> {
  const text = await (await fetch(`${e.url}/metrics`)).text();
  return Number(/^damper_events_applied_total (\S+)/m.exec(text)?.[1] ?? NaN);
}

describe('pipelined acknowledged batches', () => {
  it('answers every seq once, in order, with nacks in place, and applies each acked event once', async () => {
    const before = await applied();
    const conns = await Promise.all(Array.from({ length: 12 }, (_, i) => IngestClient.connect(e.wsUrl, `device=pipe-${i}`)));
    const frames = 60;
    const t0 = 1_763_800_000_000;
    let expectedEvents = 0;
    conns.forEach((c, i) => {
      for (let k = 1; k <= frames; k++) {
        if (k % 17 === 0) {
          c.sendBatch([[t0 + k, 'temperature', 'not a number']]);
          continue;
        }
        const events = Array.from({ length: 20 }, (_, j) => [t0 + k * 100 + j, j % 2 === 0 ? 'temperature' : 'humidity', i + j]);
        expectedEvents += events.length;
        c.sendBatch(events);
      }
    });
    await until(() => (conns.every((c) => c.replies.length >= frames) ? true : undefined), 20_000);
    for (const c of conns) {
      expect(c.replies).toHaveLength(frames);
      c.replies.forEach((r, idx) => {
        const seq = idx + 1;
        if (seq % 17 === 0) {
          expect(r.nack).toBe(seq);
          expect((r.error as { code: string }).code).toBe('bad_event');
        } else {
          expect(r).toEqual({ ack: seq, accepted: 20 });
        }
      });
    }
    expect((await applied()) - before).toBe(expectedEvents);
    for (const c of conns) c.close();
  });
});
