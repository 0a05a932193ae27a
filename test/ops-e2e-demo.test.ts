// End to end through the real engine: the demo fleet streams into /v1/ingest, the demo
// rules fire, and the operations endpoints (metrics, device API, dashboard) show it.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { DemoFleet } from '../src/demo/fleet.js';
import { parseExposition, sampleValue } from '../src/ops/parse-exposition.js';
import { startEngine, type InProcessEngine } from './helpers/engine.js';
import { startFleetOn } from './helpers/fleet.js';

const rulesFile = fileURLToPath(new URL('../demo/rules.yaml', import.meta.url));

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 45_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('demo fleet through the real engine', () => {
  let te: InProcessEngine;
  let fleet: DemoFleet | null = null;
  let sub: WebSocket;
  const records: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    te = await startEngine({ rulesFile });
    sub = new WebSocket(`${te.wsUrl}/v1/actions`);
    sub.on('message', (data) => records.push(JSON.parse(String(data)) as Record<string, unknown>));
    await new Promise((r, j) => sub.once('open', r).once('error', j));
  });
  afterAll(async () => {
    await fleet?.stop();
    sub?.close();
    await te?.stop();
  });

  it('overheating thermostats fire too-hot; metrics, device API and dashboard show the fleet', async () => {
    const { engine } = te;
    fleet = startFleetOn(te, {
      devices: 3,
      seed: 3,
      intervalMs: 50,
      timeScale: 20, // a simulated second every 50 ms
      episodeRates: { overheatPerSec: 0.5, errorsPerSec: 0, silentPerSec: 0 },
    });

    const fired = await until('a too-hot record', () =>
      records.find((r) => r.rule === 'too-hot' && r.state === 'fired'),
    );
    expect(fired.device).toMatch(/^th-[123]$/);
    expect(fired.attrs).toMatchObject({ type: 'thermostat' });
    const values = fired.values as Record<string, number>;
    const sp = values['device.setpoint']!;
    expect(values['avg(temperature, 1m)']!).toBeGreaterThan(sp + 4);
    expect(fired.actions).toEqual(['notify-owner', 'service-case']);
    // Devices get attributes only after their first reading, so the start is quiet.
    expect(records.filter((r) => r.rule === 'device-offline')).toEqual([]);

    const metrics = parseExposition(await (await fetch(`${te.url}/metrics`)).text());
    expect(sampleValue(metrics, 'damper_connections', { kind: 'device' })).toBe(3);
    expect(sampleValue(metrics, 'damper_connections', { kind: 'actions' })).toBe(1);
    expect(sampleValue(metrics, 'damper_actions_total', { rule: 'too-hot', state: 'fired' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(metrics, 'damper_events_applied_total')!).toBeGreaterThan(0);
    expect(sampleValue(metrics, 'damper_ingest_to_action_seconds_count')!).toBeGreaterThanOrEqual(1);
    expect(sampleValue(metrics, 'damper_rules_version')).toBe(1);

    const dev = (await (await fetch(`${te.url}/v1/devices/${String(fired.device)}`)).json()) as Record<string, any>;
    expect(dev.attrs).toMatchObject({ type: 'thermostat', setpoint: sp });
    expect(typeof dev.clock).toBe('number');
    expect(typeof dev.features['avg(temperature, 1m)']).toBe('number');
    expect(Object.keys(dev.rules).sort()).toEqual(['device-offline', 'errors-accelerating', 'too-hot']);

    expect((await fetch(`${te.url}/`)).status).toBe(200);

    await fleet.stop();
    const stats = fleet.stats();
    fleet = null;
    expect(stats.acked).toBeGreaterThan(0);
    expect(stats.nacked).toBe(0);
    expect(stats.errors).toBe(0);
    await until('device connections to close', async () => {
      const m = parseExposition(await (await fetch(`${te.url}/metrics`)).text());
      return sampleValue(m, 'damper_connections', { kind: 'device' }) === 0 ? m : undefined;
    });
    const after = parseExposition(await (await fetch(`${te.url}/metrics`)).text());
    expect(sampleValue(after, 'damper_events_applied_total')!).toBeGreaterThanOrEqual(stats.acked);
  });
});

describe('demo fleet with device token auth', () => {
  it('registers each device with a token before connecting, so token mode accepts it', async () => {
    const te = await startEngine({ rulesFile, flags: { 'auth-devices': 'token' } });
    const fleet = startFleetOn(te, {
      devices: 2,
      intervalMs: 50,
      batchReadings: 1,
    });
    try {
      await until('acked readings from both devices', () => (fleet.stats().acked >= 4 ? true : undefined));
      const m = parseExposition(await (await fetch(`${te.url}/metrics`)).text());
      expect(sampleValue(m, 'damper_connections', { kind: 'device' })).toBe(2);
      expect(sampleValue(m, 'damper_events_rejected_total', { code: 'unauthorized' })).toBe(0);
      // A stranger without a token is still turned away.
      const stranger = new WebSocket(`${te.wsUrl}/v1/ingest?device=th-1`);
      const status = await new Promise<number>((ok) => {
        stranger.once('unexpected-response', (_req, res) => ok(res.statusCode ?? 0));
        stranger.once('open', () => ok(101));
        stranger.once('error', () => undefined);
      });
      expect(status).toBe(401);
    } finally {
      await fleet.stop();
      await te.stop();
    }
  });
});
