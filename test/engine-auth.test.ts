import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestClient, startEngine, type InProcessEngine } from './helpers/index.js';

const ADMIN = 'admin-secret';
let e: InProcessEngine;
beforeAll(async () => {
  e = await startEngine({ flags: { 'auth-devices': 'token', 'admin-token': ADMIN, shards: 2 } });
  const put = await fetch(`${e.url}/v1/devices/tok-1`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ attrs: { type: 'thermostat' }, token: 'dev-secret' }),
  });
  expect(put.status).toBeLessThan(300);
});
afterAll(async () => {
  await e?.stop();
});

describe('device token auth', () => {
  it('accepts the device token in the query or as a bearer header', async () => {
    const a = await IngestClient.connect(e.wsUrl, 'device=tok-1&token=dev-secret');
    expect(await a.request([{ m: 'x', v: 1 }])).toEqual({ ack: 1, accepted: 1 });
    a.close();
    const b = await IngestClient.connect(e.wsUrl, 'device=tok-1', { Authorization: 'Bearer dev-secret' });
    expect(await b.request([{ m: 'x', v: 1 }])).toEqual({ ack: 1, accepted: 1 });
    b.close();
  });

  it('refuses a bad or missing token with 401 at the upgrade', async () => {
    await expect(IngestClient.connect(e.wsUrl, 'device=tok-1&token=wrong')).rejects.toMatchObject({ status: 401 });
    await expect(IngestClient.connect(e.wsUrl, 'device=tok-1')).rejects.toMatchObject({ status: 401 });
    await expect(IngestClient.connect(e.wsUrl, 'device=nobody&token=x')).rejects.toMatchObject({ status: 401 });
    await expect(IngestClient.connect(e.wsUrl)).rejects.toMatchObject({ status: 401 });
  });

  it('lets gateways in with the admin token and rejects unknown devices', async () => {
    const g = await IngestClient.connect(e.wsUrl, `token=${ADMIN}`);
    expect(await g.request([{ d: 'tok-1', m: 'x', v: 2 }])).toEqual({ ack: 1, accepted: 1 });
    g.send({ seq: 2, events: [{ d: 'tok-1', m: 'x', v: 2 }, { d: 'stranger', m: 'x', v: 2 }] });
    expect(await g.next()).toMatchObject({ nack: 2, error: { code: 'unknown_device', index: 1 } });
    g.close();
  });

  it('checks tokens on POST /v1/events', async () => {
    const post = (q: string, headers: Record<string, string> = {}) =>
      fetch(`${e.url}/v1/events${q}`, { method: 'POST', headers: { 'Content-Type': 'application/msgpack', ...headers }, body: pack({ m: 'x', v: 1 }) });
    expect((await post('?device=tok-1&token=dev-secret')).status).toBe(202);
    const bad = await post('?device=tok-1&token=nope');
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await post('')).status).toBe(401);
  });

  it('protects the API with the admin token', async () => {
    expect((await fetch(`${e.url}/v1/devices/tok-1`)).status).toBe(401);
    expect((await fetch(`${e.url}/v1/rules`)).status).toBe(401);
    const ok = await fetch(`${e.url}/v1/devices/tok-1`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { device: string; attrs: Record<string, unknown> };
    expect(body).toMatchObject({ device: 'tok-1', attrs: { type: 'thermostat' } });
  });
});
