// The demo fleet: simulated thermostats in-process, each a real `ws` client on /v1/ingest
// (a device connection) sending msgpack acknowledged batches. It exists to make `npm start`
// show something worth looking at, so it favours readable behaviour over load; the load
// generator for benchmarks is src/simulate.
import { randomBytes } from 'node:crypto';
import { pack, unpack } from 'msgpackr';
import WebSocket from 'ws';
import { DamperError } from '../errors.js';
import type { DeviceRegistry } from '../registry/device-registry.js';
import { DEFAULT_EPISODE_RATES, ThermostatModel, type EpisodeRates, type Mode } from './thermostat-model.js';

export interface DemoFleetOptions {
  /** ws://host:port of the engine. */
  url: string;
  devices: number;
  registry: DeviceRegistry;
  /** Tells the engine that a device's attributes were (re)written. */
  attrsChanged(id: string): void;
  /** Same seed, same fleet: ids, owners, setpoints and episodes. Default 1. */
  seed?: number;
  /** Reading interval per device (default 1000 ms). */
  intervalMs?: number;
  /** Readings per acknowledged batch (default 3). */
  batchReadings?: number;
  /** Device ids are `${prefix}${n}` (default "th-"). */
  prefix?: string;
  episodeRates?: EpisodeRates;
  /**
   * Simulated seconds per real second (default 1). Above 1 the readings' event times run
   * ahead of the wall clock, so windowed rules fire sooner (tests, quick demos); age()
   * follows the server's wall clock and is not sped up.
   */
  timeScale?: number;
  /** Called with a short line about connection trouble (default: silent). */
  log?: (line: string) => void;
}

export interface DemoFleetStats {
  devices: number;
  connected: number;
  silent: number;
  overheating: number;
  erroring: number;
  eventsSent: number;
  batchesSent: number;
  acked: number;
  nacked: number;
  errors: number;
  dropped: number;
}

export interface DemoFleet {
  stop(): Promise<void>;
  stats(): DemoFleetStats;
}

/** Bounds per device, so a stalled engine cannot make the demo grow without limit. */
const MAX_PENDING_EVENTS = 600;
const MAX_UNACKED_BATCHES = 16;
const MAX_RECONNECT_MS = 30_000;

type DemoEvent = { t: number; values: { temperature: number; humidity: number } } | { t: number; m: 'error'; v: 1 };

interface SimDevice {
  readonly id: string;
  readonly index: number;
  readonly model: ThermostatModel;
  token: string;
  ready: boolean;
  attrsDone: boolean;
  ws: WebSocket | null;
  open: boolean;
  pending: DemoEvent[];
  unacked: number;
  seq: number;
  readings: number;
  reconnectAt: number;
  failures: number;
  mode: Mode;
}

export function startDemoFleet(opts: DemoFleetOptions): DemoFleet {
  const intervalMs = opts.intervalMs ?? 1000;
  const batchReadings = Math.max(1, opts.batchReadings ?? 3);
  const seed = opts.seed ?? 1;
  const prefix = opts.prefix ?? 'th-';
  const rates = opts.episodeRates ?? DEFAULT_EPISODE_RATES;
  const base = opts.url.replace(/\/+$/, '');
  const log = opts.log ?? (() => undefined);
  const timeScale = opts.timeScale ?? 1;
  if (!(timeScale > 0 && Number.isFinite(timeScale)) || !(intervalMs >= 1) || !(opts.devices >= 0)) {
    throw new DamperError('DAMPER_ERR_DEMO', 'demo fleet: devices >= 0, intervalMs >= 1 and a positive timeScale required');
  }
  const startedAt = Date.now();
  const totals = { eventsSent: 0, batchesSent: 0, acked: 0, nacked: 0, errors: 0, dropped: 0 };
  let stopped = false;

  const devices: SimDevice[] = [];
  for (let i = 0; i < opts.devices; i++) {
    devices.push({
      id: `${prefix}${i + 1}`,
      index: i,
      // Distinct, seed-derived streams per device.
      model: new ThermostatModel((Math.imul(seed, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0, rates),
      token: '',
      ready: false,
      attrsDone: false,
      ws: null,
      open: false,
      pending: [],
      unacked: 0,
      seq: 0,
      readings: 0,
      reconnectAt: 0,
      failures: 0,
      mode: 'normal',
    });
  }

  // A device is registered with its token before it connects (token auth needs it), but
  // gets its thermostat attributes only once its first batch is applied: with attributes
  // and no reading yet, age(temperature) is +Inf and device-offline would fire for the
  // whole fleet at start. Attributes already in the registry (say a setpoint changed
  // through the API) win over the simulated ones.
  for (const d of devices) {
    const existing = opts.registry.get(d.id);
    d.token = existing?.token ?? randomBytes(12).toString('hex');
    const registered =
      existing?.token === undefined
        ? opts.registry.put(d.id, { attrs: existing?.attrs ?? {}, token: d.token })
        : Promise.resolve();
    registered.then(
      () => {
        if (!stopped) d.ready = true;
      },
      (err: unknown) => log(`demo fleet: cannot register ${d.id}: ${String(err)}`),
    );
  }

  function completeAttrs(d: SimDevice): void {
    d.attrsDone = true;
    const existing = opts.registry.get(d.id);
    const attrs = { ...d.model.attrs, ...existing?.attrs };
    if (existing !== undefined && Object.keys(attrs).length === Object.keys(existing.attrs).length) return;
    opts.registry.put(d.id, { attrs, token: existing?.token ?? d.token }).then(
      () => {
        if (!stopped) opts.attrsChanged(d.id);
      },
      (err: unknown) => log(`demo fleet: cannot register ${d.id}: ${String(err)}`),
    );
  }

  function connect(d: SimDevice): void {
    const url = `${base}/v1/ingest?device=${encodeURIComponent(d.id)}&token=${encodeURIComponent(d.token)}`;
    const ws = new WebSocket(url);
    d.ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => {
      d.open = true;
      d.failures = 0;
      // Send what is waiting at once: a device the engine knows (attributes from an earlier
      // run) but has no reading of yet would look offline (age +Inf) to the next tick.
      send(d);
    });
    ws.on('message', (data, isBinary) => onReply(d, data as Buffer, isBinary));
    ws.on('error', () => undefined); // 'close' follows and schedules the reconnect
    ws.on('close', (code) => {
      if (d.ws !== ws) return;
      d.ws = null;
      d.open = false;
      d.unacked = 0; // replies for that connection will not come
      if (stopped || d.mode === 'silent') return;
      d.failures++;
      d.reconnectAt = Date.now() + Math.min(MAX_RECONNECT_MS, 500 * 2 ** Math.min(d.failures, 6));
      if (d.failures === 1 || d.failures % 10 === 0) log(`demo fleet: ${d.id} disconnected (${code}), reconnecting`);
    });
  }

  function onReply(d: SimDevice, data: Buffer, isBinary: boolean): void {
    let msg: unknown;
    try {
      msg = isBinary ? unpack(data) : JSON.parse(data.toString('utf8'));
    } catch {
      totals.errors++;
      return;
    }
    if (msg === null || typeof msg !== 'object') return;
    const m = msg as { ack?: unknown; accepted?: unknown; nack?: unknown; error?: unknown };
    if (typeof m.ack === 'number') {
      d.unacked = Math.max(0, d.unacked - 1);
      totals.acked += typeof m.accepted === 'number' ? m.accepted : 0;
      if (!d.attrsDone) completeAttrs(d);
    } else if (typeof m.nack === 'number') {
      d.unacked = Math.max(0, d.unacked - 1);
      totals.nacked++;
    } else if (m.error !== undefined) {
      totals.errors++;
    }
  }

  function tick(): void {
    const now = Date.now();
    const eventTime = Math.round(startedAt + (now - startedAt) * timeScale);
    const dt = (intervalMs / 1000) * timeScale;
    for (const d of devices) {
      if (!d.ready) continue;
      const sp = opts.registry.get(d.id)?.attrs.setpoint;
      const reading = d.model.step(dt, typeof sp === 'number' ? sp : d.model.attrs.setpoint);
      d.mode = d.model.currentMode;
      if (reading === null) {
        // A silent device drops its connection, like one that lost power.
        if (d.ws !== null) d.ws.close(1000, 'device silent');
        d.ws = null;
        d.open = false;
        d.pending.length = 0;
        d.unacked = 0;
        continue;
      }
      d.pending.push({ t: eventTime, values: { temperature: reading.temperature, humidity: reading.humidity } });
      for (let e = 0; e < reading.errors; e++) d.pending.push({ t: eventTime, m: 'error', v: 1 });
      if (d.pending.length > MAX_PENDING_EVENTS) {
        totals.dropped += d.pending.length - MAX_PENDING_EVENTS;
        d.pending.splice(0, d.pending.length - MAX_PENDING_EVENTS);
      }
      d.readings++;
      if (d.ws === null && now >= d.reconnectAt) connect(d);
      // Devices flush in different ticks so the engine sees a steady stream.
      if (d.open && d.unacked < MAX_UNACKED_BATCHES && (d.readings + d.index) % batchReadings === 0) send(d);
    }
  }

  function send(d: SimDevice): void {
    if (d.ws === null || d.pending.length === 0) return;
    d.seq++;
    d.ws.send(pack({ seq: d.seq, events: d.pending }));
    d.unacked++;
    totals.eventsSent += d.pending.length;
    totals.batchesSent++;
    d.pending = [];
  }

  const timer = setInterval(tick, intervalMs);

  return {
    stats(): DemoFleetStats {
      let connected = 0;
      let silent = 0;
      let overheating = 0;
      let erroring = 0;
      for (const d of devices) {
        if (d.open) connected++;
        if (d.mode === 'silent') silent++;
        else if (d.mode === 'overheat') overheating++;
        else if (d.mode === 'errors') erroring++;
      }
      return { devices: devices.length, connected, silent, overheating, erroring, ...totals };
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await Promise.all(
        devices.map((d) => {
          const ws = d.ws;
          d.ws = null;
          d.open = false;
          if (ws === null || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
          return new Promise<void>((resolve) => {
            const force = setTimeout(() => {
              ws.terminate();
              resolve();
            }, 2000);
            ws.once('close', () => {
              clearTimeout(force);
              resolve();
            });
            // Send what was read but not yet sent, then close; the engine acks in order.
            if (ws.readyState === WebSocket.OPEN && d.pending.length > 0) {
              ws.send(pack({ seq: ++d.seq, events: d.pending }));
              totals.eventsSent += d.pending.length;
              totals.batchesSent++;
              d.pending = [];
            }
            ws.close(1000, 'demo fleet stopped');
          });
        }),
      );
    },
  };
}
