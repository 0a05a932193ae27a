// The fleet simulator: pre-encoded frames are valid WebSocket + msgpack (checked by a real
// `ws` server), and against a real engine process the counts add up:
// sent = applied (from /metrics) + rejected (from error frames).
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpack } from 'msgpackr';
import { WebSocketServer } from 'ws';
import { runFleet } from '../src/simulate/fleet.js';
import { FramePool } from '../src/simulate/frames.js';
import { runSimulateCommand } from '../src/simulate/command.js';
import { sumMetric } from '../bench/lib/prom.js';
import { startEngineProcess, type EngineProcess } from './helpers/engine.js';

async function metric(url: string, name: string): Promise<number> {
  const value = sumMetric(await (await fetch(`${url}/metrics`)).text(), name);
  return Number.isNaN(value) ? 0 : value;
}

describe('frame pool', () => {
  it('encodes the three shapes, device and gateway, as SPEC §3.1 frames', () => {
    const t = 1763800000123;
    const decode = (shape: 'tuple' | 'map' | 'reading', gateway: boolean): unknown[] =>
      unpack(new FramePool({ shape, batch: 3, gateway, devices: 2, prefix: 'sim-' }, t).frames[0].events) as unknown[];
    expect(decode('tuple', false)[0]).toEqual([t, 'temperature', expect.any(Number)]);
    expect(decode('tuple', true)[1]).toEqual(['sim-1', t, 'temperature', expect.any(Number)]);
    expect(decode('map', true)[0]).toEqual({ m: 'temperature', v: expect.any(Number), t, d: 'sim-0' });
    const reading = decode('reading', false);
    expect(reading).toHaveLength(3);
    expect(reading[0]).toEqual({ t, values: { temperature: expect.any(Number), humidity: expect.any(Number) } });
  });
});

describe('simulator against a ws server', () => {
  it('delivers every frame it reports as sent, intact, to a standards-checking server', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    let frames = 0;
    let events = 0;
    const devices = new Set<string>();
    wss.on('connection', (ws, req) => {
      devices.add(new URL(req.url ?? '/', 'http://x').searchParams.get('device') ?? '');
      ws.on('message', (data: Buffer, binary: boolean) => {
        expect(binary).toBe(true);
        frames++;
        events += (unpack(data) as unknown[]).length;
      });
    });
    const report = await runFleet({
      url: `ws://127.0.0.1:${port}/v1/ingest`, devices: 4, rate: 4000, batch: 10, durationS: 0.5, barrier: false,
    });
    await new Promise((r) => setTimeout(r, 200));
    for (const c of wss.clients) c.terminate();
    wss.close();
    expect(report.connected).toBe(4);
    expect(report.framesSent).toBeGreaterThan(0);
    expect(frames).toBe(report.framesSent);
    expect(events).toBe(report.eventsSent);
    expect([...devices].sort()).toEqual(['sim-0', 'sim-1', 'sim-2', 'sim-3']);
  });

  it('rejects bad options with exit code 2', async () => {
    expect(await runSimulateCommand(['--shape', 'cube', '--url', 'ws://127.0.0.1:1'])).toBe(2);
    expect(await runSimulateCommand(['--devices', '-3'])).toBe(2);
  });
});

describe('simulator against a real engine', () => {
  let engine: EngineProcess;
  beforeAll(async () => {
    engine = await startEngineProcess({ rulesFile: 'demo/rules.yaml' }, 30_000);
  }, 40_000);
  afterAll(async () => {
    await engine?.kill();
    if (engine) rmSync(engine.dataDir, { recursive: true, force: true });
  });

  it('device connections: sent = applied + rejected', async () => {
    const applied0 = await metric(engine.url, 'damper_events_applied_total');
    const report = await runFleet({
      url: `${engine.wsUrl}/v1/ingest`, devices: 5, rate: 5000, batch: 10, shape: 'tuple', durationS: 0.6, badEvery: 4,
    });
    expect(report.barrierTimeouts).toBe(0);
    expect(report.framesSent).toBeGreaterThan(4);
    expect(report.framesRejected).toBeGreaterThan(0);
    const applied = (await metric(engine.url, 'damper_events_applied_total')) - applied0;
    expect(report.eventsSent).toBe(applied + report.eventsRejected);
  });

  it('acknowledged gateway frames: every event acked or rejected, matching the engine', async () => {
    const applied0 = await metric(engine.url, 'damper_events_applied_total');
    const report = await runFleet({
      url: `${engine.wsUrl}/v1/ingest`, devices: 20, gateway: true, connections: 2, rate: 5000, batch: 10,
      shape: 'map', ack: true, durationS: 0.6, badEvery: 5,
    });
    expect(report.unanswered).toBe(0);
    const applied = (await metric(engine.url, 'damper_events_applied_total')) - applied0;
    expect(report.eventsAcked).toBe(applied);
    expect(report.eventsSent).toBe(report.eventsAcked + report.eventsRejected);
  });
});
