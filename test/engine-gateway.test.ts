import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, sampleValue } from '../src/ops/parse-exposition.js';
import { IngestClient, startEngine, type InProcessEngine, streamRuleYaml } from './helpers/index.js';

const RULES = streamRuleYaml('seen', 'last(x) > 0');

let e: InProcessEngine;
beforeAll(async () => {
  e = await startEngine({ rules: RULES, flags: { shards: 4, workers: 2 } });
});
afterAll(async () => {
  await e?.stop();
});

async function device(id: string): Promise<{ clock: number; features: Record<string, number> }> {
  const res = await fetch(`${e.url}/v1/devices/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { clock: number; features: Record<string, number> };
}

describe('gateway connections', () => {
  it('accept every frame shape with d and ack after all shards applied', async () => {
    const g = await IngestClient.connect(e.wsUrl);
    const t = 1_763_800_000_000;
    g.send({ d: 'gw-a', m: 'x', v: 1, t });
    g.send({ d: 'gw-b', t, values: { x: 2, y: 3 } });
    g.send(['gw-c', t, 'x', 3]);
    g.send([['gw-d', t, 'x', 4], { d: 'gw-e', m: 'x', v: 5, t }]);
    g.sendJson({ d: 'gw-f', m: 'x', v: 6, t });
    expect(await g.request([{ d: 'gw-g', m: 'x', v: 7, t }, ['gw-h', t, 'x', 8]])).toEqual({ ack: 1, accepted: 2 });
    // the ack covers the earlier unacknowledged frames on every shard
    const expected: Record<string, number> = { 'gw-a': 1, 'gw-b': 2, 'gw-c': 3, 'gw-d': 4, 'gw-e': 5, 'gw-f': 6, 'gw-g': 7, 'gw-h': 8 };
    for (const [id, v] of Object.entries(expected)) expect((await device(id)).features['last(x)']).toBe(v);
    g.close();
  });

  it('rejects events without d, bad ids and keeps going', async () => {
    const g = await IngestClient.connect(e.wsUrl);
    g.send({ m: 'x', v: 1 });
    expect((await g.next()).error).toMatchObject({ code: 'bad_event' });
    g.send({ seq: 4, events: [{ d: 'ok-1', m: 'x', v: 1 }, { d: 'bad id', m: 'x', v: 1 }] });
    expect(await g.next()).toMatchObject({ nack: 4, error: { code: 'bad_event', index: 1 } });
    expect((await fetch(`${e.url}/v1/devices/ok-1`)).status).toBe(404);
    g.close();
  });

  it('keeps per-device order across shards (ties in ts resolve to the latest arrival)', async () => {
    const g = await IngestClient.connect(e.wsUrl);
    const ids = Array.from({ length: 16 }, (_, i) => `ord-${i}`);
    const t = 1_763_800_100_000;
    for (let n = 1; n <= 50; n++) {
      // interleave devices within frames and across frames, all at the same ts
      g.send(ids.map((id) => [id, t, 'x', n]));
    }
    expect((await g.request([])).ack).toBe(1);
    for (const id of ids) expect((await device(id)).features['last(x)']).toBe(50);
    g.close();
  });

  it('device connections keep order across many frames too', async () => {
    const c = await IngestClient.connect(e.wsUrl, 'device=ord-dev');
    const t = 1_763_800_200_000;
    for (let n = 1; n <= 200; n++) c.send([t, 'x', n]);
    expect(await c.request([])).toEqual({ ack: 1, accepted: 0 });
    expect((await device('ord-dev')).features['last(x)']).toBe(200);
    c.close();
  });
});

describe('/metrics', () => {
  it('parses as Prometheus text and counts what was sent', async () => {
    const scrape = async () => parseExposition(await (await fetch(`${e.url}/metrics`)).text());
    const before = await scrape();
    const c = await IngestClient.connect(e.wsUrl, 'device=metrics-1');
    expect(await c.request([{ m: 'x', v: 1 }, { m: 'x', v: 2 }, { m: 'y', v: 3 }])).toMatchObject({ ack: 1, accepted: 3 });
    c.send({ m: 'x' });
    await c.next();
    c.sendRaw(new Uint8Array([0xc1]));
    await c.next();
    const after = await scrape();
    const d = (name: string, labels: Record<string, string> = {}) => (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
    expect(d('damper_events_applied_total')).toBe(3);
    expect(d('damper_frames_total', { transport: 'ws' })).toBe(3);
    expect(d('damper_events_rejected_total', { code: 'bad_event' })).toBe(1);
    expect(d('damper_events_rejected_total', { code: 'bad_frame' })).toBe(1);
    expect(sampleValue(after, 'damper_connections', { kind: 'device' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, 'damper_rules_version')).toBe(1);
    expect(sampleValue(after, 'damper_actions_total', { rule: 'seen', state: 'fired' })).toBeGreaterThanOrEqual(1);
    for (let s = 0; s < 4; s++) expect(sampleValue(after, 'damper_shard_queue_bytes', { shard: String(s) })).toBeDefined();
    c.close();
  });
});
