import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import { IngestClient, startEngine, until, type InProcessEngine, streamRuleYaml } from './helpers/index.js';

const RULES = streamRuleYaml('hot', 'last(temperature) > 100');

let e: InProcessEngine;
beforeAll(async () => {
  e = await startEngine({ rules: RULES, flags: { shards: 4 } });
});
afterAll(async () => {
  await e?.stop();
});

async function actions(from = 0): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${e.url}/v1/actions?from=${from}&limit=1000`);
  const body = (await res.json()) as { records?: Array<Record<string, unknown>> } | Array<Record<string, unknown>>;
  return Array.isArray(body) ? body : (body.records ?? []);
}

describe('device connection frame shapes', () => {
  it('acks every shape after applying it, and rules see the events', async () => {
    const c = await IngestClient.connect(e.wsUrl, 'device=shape-1');
    const t = 1_763_800_000_000;
    expect(await c.request([{ m: 'temperature', v: 70, t }])).toEqual({ ack: 1, accepted: 1 });
    expect(await c.request([{ t: t + 1, values: { temperature: 71, humidity: 40 } }])).toEqual({ ack: 2, accepted: 2 });
    expect(await c.request([[t + 2, 'temperature', 72]])).toEqual({ ack: 3, accepted: 1 });
    expect(await c.request([])).toEqual({ ack: 4, accepted: 0 });
    // unacknowledged shapes: single, tuple, batch; then a barrier proves they were applied
    c.send({ m: 'temperature', v: 73, t: t + 3 });
    c.send([t + 4, 'temperature', 74]);
    c.send([{ m: 'temperature', v: 75, t: t + 5 }, [t + 6, 'humidity', 41]]);
    c.sendJson({ m: 'temperature', v: 101, t: t + 7 });
    expect(await c.request([])).toEqual({ ack: 5, accepted: 0 });
    const dev = (await (await fetch(`${e.url}/v1/devices/shape-1`)).json()) as { clock: number; rules: Record<string, string> };
    expect(dev.clock).toBe(t + 7);
    expect(dev.rules.hot).toBe('firing');
    // The ack means applied; the record is appended durably after that.
    const recs = await until(async () => {
      const r = (await actions()).filter((x) => x.device === 'shape-1');
      return r.length > 0 ? r : undefined;
    });
    expect(recs.map((r) => r.state)).toEqual(['fired']);
    expect(recs[0].ts).toBe(t + 7);
    c.close();
  });

  it('answers JSON text frames in JSON', async () => {
    const c = await IngestClient.connect(e.wsUrl, 'device=json-1');
    c.sendJson({ seq: 9, events: [{ m: 'temperature', v: 1 }] });
    expect(await c.next()).toEqual({ ack: 9, accepted: 1 });
    c.sendJson({ seq: 10, events: [{ m: 'temperature', v: 'x' }] });
    const r = await c.next();
    expect(r.nack).toBe(10);
    expect((r.error as { code: string; index: number }).code).toBe('bad_event');
    expect((r.error as { index: number }).index).toBe(0);
    c.close();
  });
});

describe('rejected frames', () => {
  it('answers bad_frame and bad_event, keeps the connection, changes nothing', async () => {
    const c = await IngestClient.connect(e.wsUrl, 'device=bad-1');
    c.sendRaw(new Uint8Array([0xc1, 0xc1]));
    expect(((await c.next()).error as { code: string }).code).toBe('bad_frame');
    c.send({ seq: 3, events: [{ m: 'temperature', v: 200, t: 5 }, { m: 'temperature', v: Number.NaN }] });
    const r = await c.next();
    expect(r.nack).toBe(3);
    expect(r.error).toMatchObject({ code: 'bad_event', index: 1 });
    c.send({ m: 'bad metric!', v: 1 });
    expect(((await c.next()).error as { code: string }).code).toBe('bad_event');
    expect(await c.request([{ m: 'humidity', v: 1, t: 1 }])).toEqual({ ack: 1, accepted: 1 });
    // the rejected batch held a hot reading: nothing fired, clock is only the good event
    const dev = (await (await fetch(`${e.url}/v1/devices/bad-1`)).json()) as { clock: number; rules: Record<string, string> };
    expect(dev.clock).toBe(1);
    expect(dev.rules.hot).toBe('idle');
    c.close();
  });

  it('closes a frame above limits.maxFrameBytes with 1009', async () => {
    const c = await IngestClient.connect(e.wsUrl, 'device=big-1');
    const other = await IngestClient.connect(e.wsUrl, 'device=big-2');
    c.sendRaw(new Uint8Array(1_048_577));
    expect(await c.closed()).toBe(1009);
    expect(await other.request([{ m: 'temperature', v: 1 }])).toEqual({ ack: 1, accepted: 1 });
    other.close();
  });
});

describe('POST /v1/events', () => {
  it('accepts msgpack and JSON, per device or by d', async () => {
    const post = (q: string, body: Uint8Array | string, type: string) =>
      fetch(`${e.url}/v1/events${q}`, { method: 'POST', headers: { 'Content-Type': type }, body });
    let res = await post('?device=http-1', pack([{ m: 'temperature', v: 1, t: 10 }, [11, 'temperature', 2]]), 'application/msgpack');
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2 });
    res = await post('', JSON.stringify([{ d: 'http-2', m: 'temperature', v: 1 }, { d: 'http-3', m: 'temperature', v: 2 }]), 'application/json');
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2 });
    // ?wait=applied answers once the kernel applied the events
    res = await post('?device=http-4&wait=applied', pack({ seq: 1, events: [[12, 'temperature', 3]] }), 'application/msgpack');
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 1 });
    expect(((await (await fetch(`${e.url}/v1/devices/http-4`)).json()) as { clock: number }).clock).toBe(12);
    res = await post('?wait=applied', JSON.stringify([{ d: 'http-5', m: 'temperature', v: 1, t: 13 }]), 'application/json');
    expect(await res.json()).toEqual({ accepted: 1 });
    expect(((await (await fetch(`${e.url}/v1/devices/http-5`)).json()) as { clock: number }).clock).toBe(13);
    res = await post('?device=http-1', pack([{ m: 'temperature', v: 1 }, { m: 'temperature', v: 'x' }]), 'application/msgpack');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'bad_event', index: 1 } });
    res = await post('', JSON.stringify({ m: 'temperature', v: 1 }), 'application/json');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_event');
    res = await post('', 'nope{', 'application/json');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_frame');
  });
});
