import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { pack, unpack } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { startDemoFleet } from '../src/demo/fleet.js';
import { ThermostatModel, type Reading } from '../src/demo/thermostat-model.js';
import { DeviceRegistry } from '../src/registry/device-registry.js';

function run(seed: number, steps: number): Array<Reading | null> {
  const m = new ThermostatModel(seed);
  const out: Array<Reading | null> = [];
  for (let i = 0; i < steps; i++) out.push(m.step(1));
  return out;
}

describe('thermostat model', () => {
  it('is deterministic per seed and differs between seeds', () => {
    expect(run(42, 2000)).toEqual(run(42, 2000));
    expect(new ThermostatModel(42).attrs).toEqual(new ThermostatModel(42).attrs);
    expect(run(42, 2000)).not.toEqual(run(43, 2000));
  });

  it('produces episodes that the demo rules react to (two simulated hours, 20 devices)', () => {
    // Per episode kind, did some device show it in the shape demo/rules.yaml needs?
    let hotLongEnough = false; // 1-minute average above setpoint + 4 for ≥ 60 s, then back below + 2
    let acceleratingErrors = false; // > 12 errors in 2 min, and the last 30 s busier than the 30 s before
    let longSilence = false; // ≥ 35 s without a reading, then readings again
    for (let dev = 0; dev < 20; dev++) {
      const m = new ThermostatModel(1000 + dev);
      const sp = m.attrs.setpoint;
      expect(m.attrs.type).toBe('thermostat');
      expect(sp).toBeGreaterThanOrEqual(68);
      expect(sp).toBeLessThanOrEqual(74);
      const temps: number[] = [];
      const errSums: number[] = [0]; // prefix sums of errors per second
      let tempSum = 0;
      let hotRun = 0;
      let wasHot = false;
      let silentRun = 0;
      let sane = true;
      for (let s = 0; s < 7200; s++) {
        const r = m.step(1);
        const e = r === null ? 0 : r.errors;
        errSums.push(errSums.at(-1)! + e);
        if (r === null) {
          silentRun++;
          continue;
        }
        if (silentRun >= 35) longSilence = true;
        silentRun = 0;
        sane &&= Number.isFinite(r.temperature) && r.humidity >= 20 && r.humidity <= 70;
        temps.push(r.temperature);
        tempSum += r.temperature;
        if (temps.length > 60) tempSum -= temps[temps.length - 61]!;
        const avg = tempSum / Math.min(60, temps.length);
        hotRun = avg > sp + 4 ? hotRun + 1 : 0;
        if (hotRun >= 60) wasHot = true;
        if (wasHot && avg < sp + 2) hotLongEnough = true;
        const n = errSums.length - 1;
        if (n >= 120) {
          const total = errSums[n]! - errSums[n - 120]!;
          const recent = errSums[n]! - errSums[n - 30]!;
          const before = errSums[n - 30]! - errSums[n - 60]!;
          if (total > 12 && recent > before) acceleratingErrors = true;
        }
      }
      expect(sane).toBe(true);
    }
    expect(hotLongEnough).toBe(true);
    expect(acceleratingErrors).toBe(true);
    expect(longSilence).toBe(true);
  });

  it('follows a setpoint changed at run time', () => {
    const m = new ThermostatModel(7, { overheatPerSec: 0, errorsPerSec: 0, silentPerSec: 0 });
    let r: Reading | null = null;
    for (let s = 0; s < 300; s++) r = m.step(1, 60);
    expect(Math.abs(r!.temperature - 60)).toBeLessThan(2);
  });
});

describe('demo fleet over real WebSockets', () => {
  let dir: string;
  let root: RootDatabase;
  let wss: WebSocketServer;
  let port: number;
  const conns: Array<{ url: URL; ws: WebSocket; frames: unknown[]; closed: boolean }> = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'damper-fleet-'));
    root = open({ path: dir });
    conns.length = 0;
    // The test's peer answers like SPEC §3.1 ingest: an ack per acknowledged batch.
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
      const c = { url: new URL(req.url ?? '/', 'http://x'), ws, frames: [] as unknown[], closed: false };
      conns.push(c);
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        expect(isBinary).toBe(true);
        const frame = unpack(data) as { seq: number; events: unknown[] };
        c.frames.push(frame);
        ws.send(pack({ ack: frame.seq, accepted: frame.events.length }));
      });
      ws.on('close', () => (c.closed = true));
    });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    port = (wss.address() as { port: number }).port;
  });
  afterEach(async () => {
    await new Promise<void>((r) => wss.close(() => r()));
    await root.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers devices, streams acknowledged msgpack batches per device and stops cleanly', async () => {
    const registry = new DeviceRegistry(root);
    // A setpoint changed through the API before the fleet starts is kept.
    await registry.put('th-2', { attrs: { type: 'thermostat', owner: 'zed', setpoint: 80 } });
    const changed: string[] = [];
    const fleet = startDemoFleet({
      url: `ws://127.0.0.1:${port}/`,
      devices: 3,
      registry,
      attrsChanged: (id) => changed.push(id),
      seed: 5,
      intervalMs: 20,
      batchReadings: 2,
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (conns.length < 3 || conns.some((c) => c.frames.length < 3))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(fleet.stats().acked).toBeGreaterThan(0);
    await fleet.stop();
    const stats = fleet.stats();
    expect(stats.connected).toBe(0);
    await new Promise((r) => setTimeout(r, 50));

    // th-2 already had its attributes: only its token was added, nothing for the kernel.
    expect(changed.sort()).toEqual(['th-1', 'th-3']);
    expect(registry.get('th-2')!.attrs).toEqual({ type: 'thermostat', owner: 'zed', setpoint: 80 });
    for (const id of ['th-1', 'th-3']) {
      const rec = registry.get(id)!;
      expect(rec.attrs.type).toBe('thermostat');
      expect(typeof rec.attrs.owner).toBe('string');
      expect(typeof rec.attrs.setpoint).toBe('number');
    }

    const byDevice = new Map<string, typeof conns>();
    for (const c of conns) {
      expect(c.url.pathname).toBe('/v1/ingest');
      const id = c.url.searchParams.get('device')!;
      expect(registry.checkToken(id, c.url.searchParams.get('token') ?? undefined)).toBe(true);
      byDevice.set(id, [...(byDevice.get(id) ?? []), c]);
    }
    expect([...byDevice.keys()].sort()).toEqual(['th-1', 'th-2', 'th-3']);

    let events = 0;
    for (const [, list] of byDevice) {
      let lastSeq = 0;
      let lastT = 0;
      for (const c of list) {
        expect(c.closed).toBe(true);
        for (const f of c.frames as Array<{ seq: number; events: Array<Record<string, unknown>> }>) {
          expect(f.seq).toBe(lastSeq + 1); // seq rises by one per batch on a device
          lastSeq = f.seq;
          expect(f.events.length).toBeGreaterThan(0);
          for (const e of f.events) {
            events++;
            expect(e.d).toBeUndefined(); // device connections carry no device field
            expect(typeof e.t).toBe('number');
            expect(e.t as number).toBeGreaterThanOrEqual(lastT);
            lastT = e.t as number;
            if ('values' in e) {
              const v = e.values as Record<string, number>;
              expect(Object.keys(v).sort()).toEqual(['humidity', 'temperature']);
              expect(Number.isFinite(v.temperature) && Number.isFinite(v.humidity)).toBe(true);
            } else {
              expect(e).toMatchObject({ m: 'error', v: 1 });
            }
          }
        }
      }
    }
    expect(events).toBe(stats.eventsSent);
    expect(stats.acked).toBeLessThanOrEqual(stats.eventsSent);
    await registry.flush();
  });

  it('keeps reconnecting while the engine is away and stop() still ends everything', async () => {
    const registry = new DeviceRegistry(root);
    const fleet = startDemoFleet({
      url: 'ws://127.0.0.1:1', // nothing listens there
      devices: 2,
      registry,
      attrsChanged: () => undefined,
      intervalMs: 20,
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(fleet.stats().connected).toBe(0);
    await fleet.stop();
    await fleet.stop(); // idempotent
    expect(fleet.stats().connected).toBe(0);
    await registry.flush();
  });
});
