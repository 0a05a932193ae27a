// The device API against the real engine: attributes written through PUT reach the kernel,
// GET shows the kernel's live feature values and rule states, DELETE forgets the device.
import { fileURLToPath } from 'node:url';
import { pack, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startEngine, type InProcessEngine } from './helpers/engine.js';

const rulesFile = fileURLToPath(new URL('../demo/rules.yaml', import.meta.url));
const ADMIN = 'ops-admin';

describe('device API on the real engine', () => {
  let te: InProcessEngine;
  const auth = { authorization: `Bearer ${ADMIN}` };

  beforeAll(async () => {
    te = await startEngine({ rulesFile, flags: { 'admin-token': ADMIN } });
  });
  afterAll(async () => {
    await te?.stop();
  });

  async function device(id: string): Promise<{ status: number; body: any }> {
    const r = await fetch(`${te.url}/v1/devices/${id}`, { headers: auth });
    return { status: r.status, body: await r.json().catch(() => null) };
  }

  it('PUT attributes, stream readings, GET features and rule states, change attributes, DELETE', async () => {
    let r = await fetch(`${te.url}/v1/devices/house-9`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ attrs: { type: 'thermostat', owner: 'ann', setpoint: 70 } }),
    });
    expect(r.status).toBe(201);
    expect((await device('house-9')).body).toEqual({
      device: 'house-9', attrs: { type: 'thermostat', owner: 'ann', setpoint: 70 }, clock: null, features: {}, rules: {},
    });

    const ws = new WebSocket(`${te.wsUrl}/v1/ingest?device=house-9`);
    await new Promise((ok, fail) => ws.once('open', ok).once('error', fail));
    const replies: any[] = [];
    ws.on('message', (d: Buffer, bin: boolean) => replies.push(bin ? unpack(d) : JSON.parse(String(d))));
    const sendAcked = async (seq: number, events: unknown[]): Promise<void> => {
      ws.send(pack({ seq, events }));
      const end = Date.now() + 30_000;
      while (!replies.some((m) => m.ack === seq || m.nack === seq)) {
        if (Date.now() > end) throw new Error(`no ack for ${seq}`);
        await new Promise((res) => setTimeout(res, 10));
      }
      expect(replies.find((m) => m.ack === seq || m.nack === seq)).toEqual({ ack: seq, accepted: events.length });
    };

    // 30 s of 80 °F, one reading a second: too-hot (avg > setpoint + 4 for 20 s) fires.
    const t0 = Date.now() - 60_000;
    await sendAcked(1, Array.from({ length: 31 }, (_, i) => [t0 + i * 1000, 'temperature', 80]));
    let d = await device('house-9');
    expect(d.status).toBe(200);
    expect(d.body.clock).toBe(t0 + 30_000);
    expect(d.body.features['avg(temperature, 1m)']).toBe(80);
    expect(d.body.features['rate(error, 2m)']).toBe(0);
    expect(d.body.features['rate_deriv(error, 2m)']).toBeNull(); // NaN in JSON
    expect(d.body.features['age(temperature)']).toBeGreaterThanOrEqual(0);
    expect(d.body.rules).toEqual({ 'too-hot': 'firing', 'errors-accelerating': 'idle', 'device-offline': 'idle' });

    // A higher setpoint reaches the kernel: the next reading clears too-hot (80 < 90 + 2).
    r = await fetch(`${te.url}/v1/devices/house-9`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ attrs: { type: 'thermostat', owner: 'ann', setpoint: 90 } }),
    });
    expect(r.status).toBe(200);
    await sendAcked(2, [[t0 + 31_000, 'temperature', 80]]);
    d = await device('house-9');
    expect(d.body.attrs.setpoint).toBe(90);
    expect(d.body.rules['too-hot']).toBe('idle');

    // No longer a thermostat: no demo rule matches it.
    await fetch(`${te.url}/v1/devices/house-9`, { method: 'PUT', headers: auth, body: JSON.stringify({ attrs: { type: 'fridge' } }) });
    await sendAcked(3, [[t0 + 32_000, 'temperature', 5]]);
    d = await device('house-9');
    expect(d.body.rules).toEqual({});
    expect(d.body.features).toEqual({});
    expect(d.body.clock).toBe(t0 + 32_000);

    r = await fetch(`${te.url}/v1/devices/house-9`, { method: 'DELETE', headers: auth });
    expect(r.status).toBe(204);
    expect((await device('house-9')).status).toBe(404);
    ws.close();

    expect((await fetch(`${te.url}/v1/devices/house-9`)).status).toBe(401);
  });
});
