import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestClient, startEngine, until, type InProcessEngine } from './helpers/index.js';

const RULES = `
rules:
  - id: over
    match: { type: thermostat }
    when: last(t) > device.setpoint
    actions: [note]
actions:
  note: { kind: stream }
`;

let e: InProcessEngine;
beforeAll(async () => {
  e = await startEngine({ rules: RULES, flags: { shards: 2 } });
});
afterAll(async () => {
  await e?.stop();
});

const put = (id: string, body: unknown) =>
  fetch(`${e.url}/v1/devices/${id}`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const get = async (id: string) => {
  const res = await fetch(`${e.url}/v1/devices/${id}`);
  return { status: res.status, body: res.status === 200 ? ((await res.json()) as { attrs: Record<string, unknown>; clock: number; features: Record<string, number>; rules: Record<string, string> }) : null };
};

describe('device API round trip with live kernel state', () => {
  it('attributes written through the API reach the rules; DELETE forgets the device', async () => {
    expect((await put('dev-1', { attrs: { type: 'thermostat', setpoint: 50 } })).status).toBeLessThan(300);
    const c = await IngestClient.connect(e.wsUrl, 'device=dev-1');
    expect(await c.request([{ m: 't', v: 60, t: 1000 }])).toMatchObject({ ack: 1 });
    let d = await get('dev-1');
    expect(d.body).toMatchObject({ device: 'dev-1', attrs: { type: 'thermostat', setpoint: 50 }, clock: 1000, features: { 'last(t)': 60 }, rules: { over: 'firing' } });

    // a new setpoint reaches the kernel before the next event of the connection
    expect((await put('dev-1', { attrs: { type: 'thermostat', setpoint: 100 } })).status).toBeLessThan(300);
    expect(await c.request([{ m: 't', v: 60, t: 2000 }])).toMatchObject({ ack: 2 });
    d = await get('dev-1');
    expect(d.body?.rules.over).toBe('idle');

    // a device that stops matching has no state for the rule
    expect((await put('dev-1', { attrs: { type: 'fridge', setpoint: 0 } })).status).toBeLessThan(300);
    expect(await c.request([{ m: 't', v: 60, t: 3000 }])).toMatchObject({ ack: 3 });
    d = await get('dev-1');
    expect(d.body?.rules).toEqual({});

    // Acks mean applied; records are appended durably after that.
    const recs = await until(async () => {
      const r = ((await (await fetch(`${e.url}/v1/actions?from=0`)).json()) as { records: Array<{ device: string; state: string; values: Record<string, number>; attrs: Record<string, unknown> }> }).records.filter((x) => x.device === 'dev-1');
      return r.length >= 2 ? r : undefined;
    });
    expect(recs.map((r) => r.state)).toEqual(['fired', 'cleared']);
    expect(recs[0].values).toEqual({ 'last(t)': 60, 'device.setpoint': 50 });

    expect((await fetch(`${e.url}/v1/devices/dev-1`, { method: 'DELETE' })).status).toBeLessThan(300);
    expect((await get('dev-1')).status).toBe(404);
    c.close();
  });

  it('auto-registers devices that connect in open mode', async () => {
    const c = await IngestClient.connect(e.wsUrl, 'device=auto-1');
    expect(await c.request([{ m: 't', v: 1, t: 5 }])).toMatchObject({ ack: 1 });
    const d = await get('auto-1');
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ attrs: {}, clock: 5 });
    c.close();
  });
});
