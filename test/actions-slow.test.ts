// A stalled /v1/actions subscriber: bounded server memory, nobody else slowed, full catch-up.
import uWS from 'uWebSockets.js';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanups, tempDir, startService, input, Client, range } from './helpers/action-harness.js';

afterEach(runCleanups);

describe('slow consumers', () => {
  it('pauses a stalled subscriber within its bound and catches it up from the log', async () => {
    const bound = 64 * 1024;
    const h = await startService(tempDir(), { streamBufferBytes: bound });
    const fast = await Client.connect(h.port, '?format=msgpack');
    const slow = await Client.connect(h.port, '');
    slow.ws.pause(); // stops reading: the kernel buffers fill, then uWS backpressure builds
    const big = 'x'.repeat(2000);
    const total = 5000;
    const batch = 250;
    for (let b = 0; b < total / batch; b++) {
      const recs = await h.service.append(range(1, batch).map((i) => ({ ...input(i, `dev-${i % 50}`), attrs: { type: 'thermostat', note: big } })));
      expect(recs[recs.length - 1]!.seq).toBe((b + 1) * batch);
    }
    // Ingest and the other consumer kept going while the slow one was stalled.
    await fast.until(() => fast.msgs.length >= total, 'fast consumer');
    expect(fast.seqs()).toEqual(range(1, total));
    const stats = h.service.streamStats();
    expect(stats.pauses).toBeGreaterThanOrEqual(1);
    expect(slow.msgs.length).toBeLessThan(total);
    // Server-side buffering for the stalled socket stayed within the bound plus one record.
    expect(stats.maxBufferedBytes).toBeLessThanOrEqual(bound + 4096);

    slow.ws.resume();
    await slow.until(() => slow.msgs.length >= total, 'slow consumer catch-up');
    expect(slow.seqs()).toEqual(range(1, total));
    // Back to live: a new record arrives without any further drain.
    await h.service.append([input(1)]);
    await slow.until(() => slow.msgs.length > total, 'live again');
    expect(slow.seqs()[total]).toBe(total + 1);
    expect(h.service.streamStats().maxBufferedBytes).toBeLessThanOrEqual(bound + 4096);
  });

  it('tells a subscriber that fell behind retention out_of_range instead of skipping records', async () => {
    const h = await startService(tempDir(), {
      streamBufferBytes: 16 * 1024,
      retention: { maxAgeMs: 3600_000, maxRecords: 200 },
      pruneIntervalMs: 10,
    });
    const slow = await Client.connect(h.port, '');
    slow.ws.pause();
    const big = 'y'.repeat(2000);
    for (let b = 0; b < 12; b++) {
      await h.service.append(range(1, 250).map((i) => ({ ...input(i), attrs: { note: big } })));
    }
    await new Promise<void>((resolve) => {
      const t = setInterval(() => h.service.oldestSeq() > 2800 && (clearInterval(t), resolve()), 10);
    });
    expect(h.service.streamStats().pauses).toBeGreaterThanOrEqual(1);
    slow.ws.resume();
    await slow.until(() => slow.closeCode !== null, 'close');
    expect(slow.closeCode).toBe(4410);
    const last = slow.msgs[slow.msgs.length - 1];
    expect(last).toEqual({ error: { code: 'out_of_range', message: expect.any(String), oldest: h.service.oldestSeq() } });
    const seqs = slow.seqs();
    expect(seqs).toEqual(range(1, seqs.length)); // what it got has no gap
    expect(seqs.length).toBeLessThan(3000);
  });
});
