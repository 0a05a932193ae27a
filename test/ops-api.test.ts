import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import uWS from 'uWebSockets.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountDeviceApi, type DeviceEngine, type DeviceView } from '../src/ops/device-api.js';
import { mountHealth } from '../src/ops/health.js';
import { listenApp, type Listening } from '../src/ops/listen.js';
import { mountMetrics } from '../src/ops/metrics-endpoint.js';
import { EngineMetrics } from '../src/ops/metrics.js';
import { parseExposition, sampleValue } from '../src/ops/parse-exposition.js';
import { DeviceRegistry } from '../src/registry/device-registry.js';

/**
 * A small but real engine: it keeps each device's temperature events, computes
 * last(temperature) and avg/count over a 1-minute window (B = 3 s) at the device clock τ as
 * SPEC §4.2 defines them, and runs one rule, too-hot: avg > device.setpoint + 4, with the
 * setpoint taken from the attributes pushed on attrsChanged.
 */
class TinyEngine implements DeviceEngine {
  private readonly events = new Map<string, Array<{ ts: number; v: number }>>();
  private readonly setpoints = new Map<string, number>();
  private readonly firing = new Set<string>();
  readonly removed: string[] = [];

  constructor(private readonly registry: DeviceRegistry) {}

  apply(id: string, ts: number, v: number): void {
    this.registry.ensure(id);
    let list = this.events.get(id);
    if (!list) this.events.set(id, (list = []));
    list.push({ ts, v });
    const avg = this.window(id).avg;
    const sp = this.setpoints.get(id) ?? NaN;
    if (avg > sp + 4) this.firing.add(id);
    else this.firing.delete(id);
  }

  private window(id: string): { tau: number; n: number; avg: number; last: number } {
    const list = this.events.get(id) ?? [];
    const B = 3000;
    const W = 60_000;
    let tau = -Infinity;
    let last = NaN;
    for (const e of list) if (e.ts >= tau) ((tau = e.ts), (last = e.v));
    const lo = Math.floor(tau / B) - W / B + 1;
    const inWin = list.filter((e) => Math.floor(e.ts / B) >= lo);
    const avg = inWin.length ? inWin.reduce((s, e) => s + e.v, 0) / inWin.length : NaN;
    return { tau, n: inWin.length, avg, last };
  }

  async queryDevice(id: string): Promise<DeviceView | null> {
    await new Promise((r) => setImmediate(r)); // the real engine answers from a worker
    if (!this.events.has(id)) return null;
    const w = this.window(id);
    const view: DeviceView = {
      clock: w.tau,
      features: { 'last(temperature)': w.last, 'avg(temperature, 1m)': w.avg, 'count(temperature, 1m)': w.n },
      rules: {},
    };
    if (this.setpoints.has(id)) view.rules['too-hot'] = this.firing.has(id) ? 'firing' : 'idle';
    return view;
  }

  attrsChanged(id: string): void {
    const sp = this.registry.get(id)?.attrs.setpoint;
    if (typeof sp === 'number') this.setpoints.set(id, sp);
    else this.setpoints.delete(id);
  }

  deviceRemoved(id: string): void {
    this.events.delete(id);
    this.setpoints.delete(id);
    this.firing.delete(id);
    this.removed.push(id);
  }
}

describe('device API, health and metrics endpoints on a real uWS app', () => {
  let dir: string;
  let root: RootDatabase;
  let registry: DeviceRegistry;
  let engine: TinyEngine;
  let server: Listening;
  let base: string;
  let ready = false;
  const metrics = new EngineMetrics();
  const ADMIN = 'admin-secret';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'damper-api-'));
    root = open({ path: dir });
    registry = new DeviceRegistry(root);
    engine = new TinyEngine(registry);
    const app = uWS.App();
    const authorize = (req: uWS.HttpRequest): boolean =>
      req.getHeader('authorization') === `Bearer ${ADMIN}` || req.getQuery('token') === ADMIN;
    mountDeviceApi(app, { registry, engine, authorize });
    mountHealth(app, { isReady: () => ready });
    mountMetrics(app, metrics);
    server = await listenApp(app, '127.0.0.1', 0);
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    server.close();
    await registry.flush();
    await root.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const auth = { authorization: `Bearer ${ADMIN}` };
  const put = (id: string, body: unknown, headers: Record<string, string> = auth) =>
    fetch(`${base}/v1/devices/${id}`, { method: 'PUT', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('round-trips a device: PUT, GET with live features and rule state, DELETE', async () => {
    let r = await put('th-1', { attrs: { type: 'thermostat', owner: 'ann', setpoint: 70 }, token: 'dev-tok' });
    expect(r.status).toBe(201);
    expect(await r.json()).toEqual({ device: 'th-1', attrs: { type: 'thermostat', owner: 'ann', setpoint: 70 } });
    expect(registry.checkToken('th-1', 'dev-tok')).toBe(true);

    // Registered but no events yet: no kernel state.
    r = await fetch(`${base}/v1/devices/th-1`, { headers: auth });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      device: 'th-1',
      attrs: { type: 'thermostat', owner: 'ann', setpoint: 70 },
      clock: null,
      features: {},
      rules: {},
    });

    engine.attrsChanged('th-1');
    const t0 = 1_763_800_000_000;
    engine.apply('th-1', t0, 72);
    engine.apply('th-1', t0 + 1000, 76);
    engine.apply('th-1', t0 + 2000, 80);
    r = await fetch(`${base}/v1/devices/th-1`, { headers: auth });
    const body = (await r.json()) as Record<string, unknown>;
    expect(body).toEqual({
      device: 'th-1',
      attrs: { type: 'thermostat', owner: 'ann', setpoint: 70 },
      clock: t0 + 2000,
      features: { 'last(temperature)': 80, 'avg(temperature, 1m)': 76, 'count(temperature, 1m)': 3 },
      rules: { 'too-hot': 'firing' },
    });
    expect(JSON.stringify(body)).not.toContain('dev-tok');

    // Replacing attributes reaches the engine: with setpoint 75 the rule is no longer firing.
    r = await put('th-1', { attrs: { type: 'thermostat', setpoint: 75 } });
    expect(r.status).toBe(200);
    engine.apply('th-1', t0 + 3000, 76);
    r = await fetch(`${base}/v1/devices/th-1?token=${ADMIN}`);
    expect(await r.json()).toMatchObject({ attrs: { type: 'thermostat', setpoint: 75 }, rules: { 'too-hot': 'idle' } });
    expect(registry.checkToken('th-1', 'dev-tok')).toBe(false); // replaced without a token

    r = await fetch(`${base}/v1/devices/th-1`, { method: 'DELETE', headers: auth });
    expect(r.status).toBe(204);
    expect(engine.removed).toEqual(['th-1']);
    r = await fetch(`${base}/v1/devices/th-1`, { headers: auth });
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ error: { code: 'not_found' } });
    r = await fetch(`${base}/v1/devices/th-1`, { method: 'DELETE', headers: auth });
    expect(r.status).toBe(404);
  });

  it('JSON writes non-finite feature values as null', async () => {
    engine.apply('nan-dev', 1_763_800_000_000, 70); // auto-registered, no setpoint
    const r = await fetch(`${base}/v1/devices/nan-dev`, { headers: auth });
    const body = (await r.json()) as { features: Record<string, unknown>; rules: unknown };
    expect(body.features['count(temperature, 1m)']).toBe(1);
    expect(body.rules).toEqual({});
    await put('nan-dev', { attrs: {} });
    engine.attrsChanged('nan-dev');
    const text = await (await fetch(`${base}/v1/devices/nan-dev`, { headers: auth })).text();
    expect(text).not.toMatch(/NaN|Infinity/);
  });

  it('lists devices', async () => {
    await put('list-a', { attrs: {} });
    await put('list-b', { attrs: {} });
    const r = await fetch(`${base}/v1/devices?limit=2&after=list-`, { headers: auth });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ devices: ['list-a', 'list-b'] });
    expect((await fetch(`${base}/v1/devices?limit=0`, { headers: auth })).status).toBe(400);
  });

  it('rejects bad input with 400/401/404/413 and changes nothing', async () => {
    expect((await fetch(`${base}/v1/devices/x`)).status).toBe(401);
    expect((await fetch(`${base}/v1/devices/x`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await put('x', { attrs: {} }, {})).status).toBe(401);
    expect((await fetch(`${base}/v1/devices/x`, { method: 'DELETE' })).status).toBe(401);
    expect((await fetch(`${base}/v1/devices`)).status).toBe(401);
    expect(registry.get('x')).toBeUndefined();

    const cases: Array<[string, unknown, number]> = [
      ['bad%20id', { attrs: {} }, 400],
      ['%E0%A4%A', { attrs: {} }, 400],
      ['ok-id', '{not json', 400],
      ['ok-id', { attrs: { nested: { a: 1 } } }, 400],
      ['ok-id', { attrs: 'no' }, 400],
      ['ok-id', [1, 2], 400],
      ['ok-id', { attrs: {}, token: 7 }, 400],
      ['ok-id', { attrs: { big: 'x'.repeat(100_000) } }, 413],
    ];
    for (const [id, body, status] of cases) {
      const r = await put(id, body);
      expect(r.status, `${id} ${String(body).slice(0, 40)}`).toBe(status);
      expect(((await r.json()) as { error: { code: string } }).error.code).toMatch(/^(bad_request|too_large)$/);
    }
    expect(registry.get('ok-id')).toBeUndefined();
    expect((await fetch(`${base}/v1/devices/${'y'.repeat(129)}`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${base}/v1/devices/nobody`, { headers: auth })).status).toBe(404);
  });

  it('healthz is always ok; readyz follows isReady', async () => {
    ready = false;
    let r = await fetch(`${base}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok' });
    r = await fetch(`${base}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ status: 'not ready' });
    ready = true;
    r = await fetch(`${base}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ready' });
  });

  it('serves /metrics as Prometheus text matching the counters', async () => {
    metrics.frames('ws', 3);
    metrics.eventsIn(9);
    metrics.rejected('bad_frame');
    const r = await fetch(`${base}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const f = parseExposition(await r.text());
    expect(sampleValue(f, 'damper_frames_total', { transport: 'ws' })).toBe(3);
    expect(sampleValue(f, 'damper_events_in_total')).toBe(9);
    expect(sampleValue(f, 'damper_events_rejected_total', { code: 'bad_frame' })).toBe(1);
  });
});
