// ws /v1/actions and GET /v1/actions against a real uWS app, real lmdb and real ws clients:
// resume by `from` and by durable consumer across a restart, filters, formats, retention.
import { unpack } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActionRecord, ActionRecordInput } from '../src/actions/types.js';
import { runCleanups, tempDir, startService, input, Client, range } from './helpers/action-harness.js';

afterEach(runCleanups);

describe('action log and ws /v1/actions', () => {
  it('numbers records from 1, sends only new ones by default, in the SPEC §5.1 JSON shape', async () => {
    const h = await startService(tempDir());
    const before = await h.service.append([input(0), input(1), input(2)]);
    expect(before.map((r) => r.seq)).toEqual([1, 2, 3]);
    const c = await Client.connect(h.port, '');
    const nan = { ...input(4), values: { 'avg(temperature, 5m)': NaN, 'rate(error, 10m)': Infinity } };
    await h.service.append([input(3), nan]);
    await c.until(() => c.msgs.length >= 2, 'two records');
    expect(c.seqs()).toEqual([4, 5]);
    expect(Object.keys(c.msgs[0])).toEqual(['seq', 'time', 'ts', 'rule', 'version', 'device', 'state', 'values', 'actions', 'attrs']);
    expect(c.msgs[0]).toMatchObject({
      seq: 4, ts: 1763805600003, rule: 'too-hot', version: 3, device: 'th-1', state: 'cleared',
      values: { 'avg(temperature, 5m)': 83, 'device.setpoint': 76 }, actions: ['notify-owner'], attrs: { type: 'thermostat' },
    });
    expect(new Date(c.msgs[0].time).toISOString()).toBe(c.msgs[0].time);
    expect(c.msgs[1].values).toEqual({ 'avg(temperature, 5m)': null, 'rate(error, 10m)': null });
  });

  it('resumes by from= across a restart with no gap, and seq continues after reopening', async () => {
    const dir = tempDir();
    let h = await startService(dir);
    for (let b = 0; b < 10; b++) await h.service.append(range(1, 25).map((i) => input(i, `dev-${i % 7}`)));
    await h.stop();
    h = await startService(dir);
    const c = await Client.connect(h.port, '?from=101');
    const more = await h.service.append(range(1, 20).map((i) => input(i)));
    expect(more[0]!.seq).toBe(251);
    await c.until(() => c.msgs.length >= 170, 'records 101..270');
    expect(c.seqs()).toEqual(range(101, 270));
    // Per device, records keep the order they were appended in.
    const dev3 = c.msgs.filter((m) => m.device === 'dev-3').map((m) => m.seq);
    expect(dev3).toEqual([...dev3].sort((a, b) => a - b));
  });

  it('filters by rule list and device', async () => {
    const h = await startService(tempDir());
    const byRule = await Client.connect(h.port, '?from=1&rule=a,b');
    const byDevice = await Client.connect(h.port, '?from=1&device=d-2');
    const both = await Client.connect(h.port, '?from=1&device=d-2&rule=c');
    const inputs = range(1, 30).map((i) => input(i, `d-${i % 3}`, ['a', 'b', 'c'][i % 3]!));
    const recs = await h.service.append(inputs);
    const want = (f: (r: ActionRecord) => boolean) => recs.filter(f).map((r) => r.seq);
    await byRule.until(() => byRule.msgs.length >= 20, 'rule a,b');
    await byDevice.until(() => byDevice.msgs.length >= 10, 'device d-2');
    await both.until(() => both.msgs.length >= 10, 'device d-2 rule c');
    // A marker record that every filter keeps proves nothing else was in flight.
    await h.service.append([input(99, 'd-2', 'a'), input(100, 'd-2', 'c')]);
    await byRule.until(() => byRule.seqs().includes(31), 'marker');
    await both.until(() => both.seqs().includes(32), 'marker');
    expect(byRule.seqs()).toEqual([...want((r) => r.rule !== 'c'), 31]);
    expect(byDevice.seqs().slice(0, 10)).toEqual(want((r) => r.device === 'd-2'));
    expect(both.seqs()).toEqual([...want((r) => r.device === 'd-2' && r.rule === 'c'), 32]);
  });

  it('speaks msgpack with format=msgpack, keeping NaN and Infinity', async () => {
    const h = await startService(tempDir());
    await h.service.append([{ ...input(0), values: { x: NaN, y: -Infinity, z: 1.5 } }]);
    const c = await Client.connect(h.port, '?from=1&format=msgpack');
    await c.until(() => c.msgs.length >= 1, 'catch-up record');
    await h.service.append([{ ...input(1), values: { x: Infinity } }]);
    await c.until(() => c.msgs.length >= 2, 'live record');
    expect(c.msgs[0].seq).toBe(1);
    expect(Number.isNaN(c.msgs[0].values.x)).toBe(true);
    expect(c.msgs[0].values.y).toBe(-Infinity);
    expect(c.msgs[0].values.z).toBe(1.5);
    expect(c.msgs[1].values.x).toBe(Infinity);
    expect('receivedAt' in c.msgs[1]).toBe(false);
  });

  it('resumes a durable consumer after its last ack across a restart', async () => {
    const dir = tempDir();
    let h = await startService(dir);
    await h.service.append([input(1), input(2)]); // before the consumer exists: not for it
    let c = await Client.connect(h.port, '?consumer=billing');
    await h.service.append(range(3, 12).map((i) => input(i)));
    await c.until(() => c.msgs.length >= 10, 'ten records');
    expect(c.seqs()).toEqual(range(3, 12));
    c.ws.send(JSON.stringify({ ack: 7 }));
    // A stale lower ack must not rewind the position.
    c.ws.send(JSON.stringify({ ack: 5 }));
    await c.close();
    await h.service.append(range(13, 15).map((i) => input(i)));
    await h.stop();

    h = await startService(dir);
    await h.service.append([input(16)]);
    c = await Client.connect(h.port, '?consumer=billing&format=msgpack');
    await c.until(() => c.msgs.length >= 9, 'records after ack 7');
    expect(c.seqs()).toEqual(range(8, 16));
    c.ws.send(Buffer.from(JSON.stringify({ ack: 999 }))); // binary frames are msgpack; this is not
    c.ws.send(JSON.stringify({ ack: 999 }));
    await c.until(() => c.msgs.filter((m) => m.error).length >= 2, 'errors');
    expect(c.msgs.filter((m) => m.error).map((m) => m.error.code)).toEqual(['bad_frame', 'bad_request']);
    c.ws.send(JSON.stringify({ ack: 16 }));
    await c.close();

    // from= wins over the stored position.
    const again = await Client.connect(h.port, '?consumer=billing&from=15');
    await again.until(() => again.msgs.length >= 2, 'from wins');
    expect(again.seqs()).toEqual([15, 16]);
    await again.close();
    const resumed = await Client.connect(h.port, '?consumer=billing');
    await h.service.append([input(17)]);
    await resumed.until(() => resumed.msgs.length >= 1, 'after ack 16');
    expect(resumed.seqs()).toEqual([17]);
  });

  it('answers out_of_range with the oldest seq once retention removed the start', async () => {
    const h = await startService(tempDir(), { retention: { maxAgeMs: 3600_000, maxRecords: 5 }, pruneIntervalMs: 10 });
    await h.service.append(range(1, 20).map((i) => input(i)));
    const deadline = Date.now() + 10_000;
    while (h.service.oldestSeq() !== 16 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(h.service.oldestSeq()).toBe(16);
    const c = await Client.connect(h.port, '?from=3');
    await c.until(() => c.closeCode !== null, 'close');
    expect(c.msgs).toEqual([{ error: { code: 'out_of_range', message: expect.any(String), oldest: 16 } }]);
    const ok = await Client.connect(h.port, '?from=16');
    await ok.until(() => ok.msgs.length >= 5, 'retained records');
    expect(ok.seqs()).toEqual(range(16, 20));
    const all = await Client.connect(h.port, '?from=0');
    await all.until(() => all.msgs.length >= 5, 'from=0: everything retained');
    expect(all.seqs()).toEqual(range(16, 20));
    const res = await fetch(`http://127.0.0.1:${h.port}/v1/actions?from=2`);
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({ error: { code: 'out_of_range', oldest: 16 } });
  });

  it('prunes by age and keeps numbering after the log was emptied and reopened', async () => {
    const dir = tempDir();
    let clock = Date.parse('2026-11-20T00:00:00Z');
    const now = () => clock;
    let h = await startService(dir, { now, retention: { maxAgeMs: 60_000, maxRecords: 1000 }, pruneIntervalMs: 10 });
    await h.service.append(range(1, 4).map((i) => input(i)));
    clock += 30_000;
    await h.service.append(range(5, 6).map((i) => input(i)));
    clock += 40_000; // the first four are now 70 s old
    const deadline = Date.now() + 10_000;
    while (h.service.oldestSeq() !== 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(h.service.oldestSeq()).toBe(5);
    clock += 60_000;
    while (h.service.oldestSeq() !== 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(h.service.oldestSeq()).toBe(7);
    await h.stop();
    h = await startService(dir, { now, retention: { maxAgeMs: 60_000, maxRecords: 1000 } });
    expect((await h.service.append([input(7)]))[0]!.seq).toBe(7);
  });

  it('serves the same log over GET /v1/actions, paged, in JSON and msgpack', async () => {
    const h = await startService(tempDir());
    await h.service.append(range(1, 12).map((i) => input(i, `d-${i % 2}`)));
    let res = await fetch(`http://127.0.0.1:${h.port}/v1/actions?from=3&limit=4`);
    expect(res.status).toBe(200);
    let page = (await res.json()) as { records: ActionRecord[]; next: number; last: number };
    expect(page.records.map((r) => r.seq)).toEqual([3, 4, 5, 6]);
    expect(page).toMatchObject({ next: 7, last: 12 });
    res = await fetch(`http://127.0.0.1:${h.port}/v1/actions?from=${page.next}&device=d-1&format=msgpack`);
    expect(res.headers.get('content-type')).toBe('application/msgpack');
    const mp = unpack(Buffer.from(await res.arrayBuffer())) as typeof page;
    expect(mp.records.map((r) => r.seq)).toEqual([7, 9, 11]);
    expect(mp.next).toBe(13);
    res = await fetch(`http://127.0.0.1:${h.port}/v1/actions?from=abc`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'bad_request' } });
  });

  it('rejects a batch it cannot encode without writing or skipping a seq', async () => {
    const h = await startService(tempDir());
    await h.service.append([input(1)]);
    const bad = { ...input(2), attrs: { huge: 10n ** 30n } } as unknown as ActionRecordInput;
    await expect(h.service.append([input(3), bad])).rejects.toMatchObject({ code: 'DAMPER_ERR_ACTION_RECORD' });
    expect((await h.service.append([input(4)]))[0]!.seq).toBe(2);
    const page = (await (await fetch(`http://127.0.0.1:${h.port}/v1/actions?from=1`)).json()) as { records: ActionRecord[] };
    expect(page.records.map((r) => [r.seq, r.ts])).toEqual([[1, 1763805600001], [2, 1763805600004]]);
  });

  it('needs authorization for the stream and the HTTP log', async () => {
    const h = await startService(tempDir(), {}, () => false);
    const res = await fetch(`http://127.0.0.1:${h.port}/v1/actions`);
    expect(res.status).toBe(401);
    await expect(Client.connect(h.port, '')).rejects.toThrow(/401/);
  });
});
