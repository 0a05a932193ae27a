// The fleet: N connections fed from a pre-encoded frame pool at an open-loop rate. A
// single timer sends whatever is due across the fleet (no per-event or per-connection
// timers); a connection whose socket buffer is above the high-water mark is skipped, and
// a backlog older than half a second is dropped and counted instead of queued, so the
// offered load never turns into unbounded memory.
import { unpack } from 'msgpackr';
import { FramePool, ackFramePrefix, barrierFrame } from './frames.js';
import { RawWsClient } from './raw-ws.js';
import { resolveSimulateOptions, type SimulateOptions } from './options.js';

export interface SimulateReport {
  url: string;
  shape: string;
  gateway: boolean;
  ack: boolean;
  devices: number;
  connections: number;
  connected: number;
  connectFailures: number;
  firstConnectError?: string;
  batch: number;
  eventsPerFrame: number;
  /** Seconds spent sending. */
  durationS: number;
  targetRate: number;
  framesSent: number;
  eventsSent: number;
  /** eventsSent / durationS. */
  sendRate: number;
  /** Frames due by the open-loop schedule that were dropped because sockets were full. */
  skippedFrames: number;
  framesAcked: number;
  eventsAcked: number;
  nacks: number;
  errorMessages: number;
  framesRejected: number;
  eventsRejected: number;
  /** Acknowledged frames with no answer at the end. */
  unanswered: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
  barrierTimeouts: number;
  /** CPU seconds the simulator process used while sending (user + system). */
  cpuS: number;
}

const BARRIER_SEQ = 0xfffffff0;

interface Conn {
  client: RawWsClient | null;
  seq: number;
  /** seq → events in flight (ack mode only). */
  outstanding: Map<number, number>;
  barrierAcked: boolean;
}

function wsTarget(url: string): { host: string; port: number; path: string } {
  const u = new URL(url.replace(/^ws/, 'http'));
  const path = u.pathname === '/' || u.pathname === '' ? '/v1/ingest' : u.pathname;
  return { host: u.hostname, port: Number(u.port || 80), path: path + (u.search || '') };
}

function withQuery(path: string, key: string, value: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
}

function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runFleet(partial: Partial<SimulateOptions>): Promise<SimulateReport> {
  const o = resolveSimulateOptions(partial);
  const target = wsTarget(o.url);
  const pool = new FramePool(
    { shape: o.shape, batch: o.batch, gateway: o.gateway, devices: o.devices, prefix: o.prefix },
    Date.now(),
  );
  const epf = pool.eventsPerFrame;
  const report: SimulateReport = {
    url: o.url, shape: o.shape, gateway: o.gateway, ack: o.ack, devices: o.devices,
    connections: o.connections, connected: 0, connectFailures: 0, batch: o.batch,
    eventsPerFrame: epf, durationS: 0, targetRate: o.rate, framesSent: 0, eventsSent: 0,
    sendRate: 0, skippedFrames: 0, framesAcked: 0, eventsAcked: 0, nacks: 0, errorMessages: 0,
    framesRejected: 0, eventsRejected: 0, unanswered: 0, errors: {}, closes: {},
    barrierTimeouts: 0, cpuS: 0,
  };

  const conns: Conn[] = [];
  const onMessage = (conn: Conn, data: Buffer, binary: boolean): void => {
    let msg: unknown;
    try {
      msg = binary ? unpack(data) : JSON.parse(data.toString('utf8'));
    } catch {
      bump(report.errors, 'undecodable_reply');
      return;
    }
    if (msg === null || typeof msg !== 'object') return;
    const m = msg as { ack?: number; accepted?: number; nack?: number; error?: { code?: string; seq?: number } };
    if (typeof m.ack === 'number') {
      if (m.ack === BARRIER_SEQ) {
        conn.barrierAcked = true;
        return;
      }
      // Acks are ordered (SPEC §3.1): an ack also settles every earlier frame still open.
      for (const [seq, events] of conn.outstanding) {
        if (seq >= m.ack) break;
        conn.outstanding.delete(seq);
        report.framesAcked++;
        report.eventsAcked += events;
      }
      if (conn.outstanding.delete(m.ack)) {
        report.framesAcked++;
        report.eventsAcked += typeof m.accepted === 'number' ? m.accepted : epf;
      }
      return;
    }
    const code = m.error?.code ?? 'unknown';
    if (typeof m.nack === 'number') {
      report.nacks++;
      bump(report.errors, code);
      if (m.nack === BARRIER_SEQ) {
        conn.barrierAcked = true;
      } else if (conn.outstanding.delete(m.nack)) {
        report.framesRejected++;
        report.eventsRejected += epf;
      }
      return;
    }
    if (m.error) {
      report.errorMessages++;
      bump(report.errors, code);
      const seq = m.error.seq;
      if (typeof seq === 'number') {
        if (seq === BARRIER_SEQ) conn.barrierAcked = true;
        else if (conn.outstanding.delete(seq)) {
          report.framesRejected++;
          report.eventsRejected += epf;
        }
      } else {
        report.framesRejected++;
        report.eventsRejected += epf;
      }
    }
  };

  // Connect with bounded concurrency; past ~28k connections one source address runs out of
  // ephemeral ports, so spread them over 127.0.0.x when the target is loopback.
  const loopback = target.host === '127.0.0.1' || target.host === 'localhost';
  const headers: Record<string, string> = o.token ? { Authorization: `Bearer ${o.token}` } : {};
  let nextIndex = 0;
  const connectOne = async (i: number): Promise<void> => {
    const conn: Conn = { client: null, seq: 0, outstanding: new Map(), barrierAcked: false };
    conns[i] = conn;
    const path = o.gateway ? target.path : withQuery(target.path, 'device', `${o.prefix}${i}`);
    try {
      conn.client = await RawWsClient.connect(
        {
          host: target.host, port: target.port, path, headers,
          localAddress: loopback ? `127.0.0.${1 + Math.floor(i / 20000)}` : undefined,
        },
        {
          onMessage: (data, binary) => onMessage(conn, data, binary),
          onClose: (code) => bump(report.closes, String(code)),
        },
      );
      report.connected++;
    } catch (err) {
      report.connectFailures++;
      report.firstConnectError ??= (err as Error).message;
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(o.connectConcurrency, o.connections) }, async () => {
      while (nextIndex < o.connections) await connectOne(nextIndex++);
    }),
  );
  const live = conns.filter((c) => c.client !== null);

  // ---- open-loop send ----
  const framesPerSec = o.rate > 0 ? o.rate / epf : Infinity;
  const backlogCap = Number.isFinite(framesPerSec) ? Math.max(1, framesPerSec * 0.5) : 0;
  const frameLen = pool.frames[0].ws.length;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let lastRefresh = t0;
  let cursor = 0;
  let frameIdx = 0;
  let frameCount = 0;
  const sendTo = (conn: Conn, n: number): number => {
    const c = conn.client!;
    if (c.closed) return 0;
    const room = o.highWaterBytes - c.buffered;
    if (room <= 0) return 0;
    n = Math.min(n, Math.max(1, Math.ceil(room / frameLen)), 256);
    if (o.ack && o.window > 0) n = Math.min(n, o.window - conn.outstanding.size);
    if (n <= 0) return 0;
    if (n > 1) c.socket.cork();
    for (let k = 0; k < n; k++) {
      let f = pool.frames[frameIdx];
      frameIdx = frameIdx + 1 === pool.frames.length ? 0 : frameIdx + 1;
      if (o.badEvery > 0 && ++frameCount % o.badEvery === 0) f = pool.bad;
      if (o.ack) {
        const seq = ++conn.seq;
        conn.outstanding.set(seq, epf);
        c.write(ackFramePrefix(seq, f.events.length));
        c.write(f.events);
      } else {
        c.write(f.ws);
      }
    }
    if (n > 1) c.socket.uncork();
    return n;
  };

  if (live.length > 0) {
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = performance.now();
        const elapsed = (now - t0) / 1000;
        if (elapsed >= o.durationS) {
          report.durationS = elapsed;
          resolve();
          return;
        }
        if (now - lastRefresh >= 1000) {
          pool.refresh(Date.now());
          lastRefresh = now;
        }
        let owed: number;
        if (Number.isFinite(framesPerSec)) {
          owed = Math.floor(framesPerSec * elapsed) - report.framesSent - report.skippedFrames;
          if (owed > backlogCap) {
            report.skippedFrames += Math.floor(owed - backlogCap);
            owed = Math.ceil(backlogCap);
          }
        } else {
          owed = Number.MAX_SAFE_INTEGER;
        }
        // Spread what is due over the fleet, a fair share per connection per pass.
        let progress = true;
        const passEnd = now + 20; // keep each tick short so the duration and refreshes hold
        while (owed > 0 && progress && performance.now() < passEnd) {
          progress = false;
          const share = Number.isFinite(framesPerSec) ? Math.max(1, Math.ceil(owed / live.length)) : 256;
          for (let k = 0; k < live.length && owed > 0; k++) {
            const conn = live[cursor];
            cursor = cursor + 1 === live.length ? 0 : cursor + 1;
            const sent = sendTo(conn, Math.min(share, owed));
            if (sent > 0) {
              progress = true;
              owed -= sent;
              report.framesSent += sent;
            }
          }
        }
        if (progress && !Number.isFinite(framesPerSec)) setImmediate(tick);
        else setTimeout(tick, 1);
      };
      tick();
    });
  }
  const cpu = process.cpuUsage(cpu0);
  report.cpuS = (cpu.user + cpu.system) / 1e6;
  report.eventsSent = report.framesSent * epf;
  report.sendRate = report.durationS > 0 ? report.eventsSent / report.durationS : 0;

  // ---- drain, barrier, close ----
  const deadline = performance.now() + o.drainTimeoutS * 1000;
  while (performance.now() < deadline && live.some((c) => !c.client!.closed && c.client!.buffered > 0)) {
    await sleep(5);
  }
  if (o.barrier) {
    for (const c of live) if (!c.client!.closed) c.client!.write(barrierFrame(BARRIER_SEQ));
    while (performance.now() < deadline && live.some((c) => !c.client!.closed && !c.barrierAcked)) {
      await sleep(5);
    }
    report.barrierTimeouts = live.filter((c) => !c.client!.closed && !c.barrierAcked).length;
  } else if (o.ack) {
    while (performance.now() < deadline && live.some((c) => !c.client!.closed && c.outstanding.size > 0)) {
      await sleep(5);
    }
  }
  for (const c of live) report.unanswered += c.outstanding.size;
  for (const c of live) c.client!.close();
  const closeDeadline = performance.now() + 2000;
  while (performance.now() < closeDeadline && live.some((c) => !c.client!.closed)) await sleep(5);
  for (const c of live) if (!c.client!.closed) c.client!.destroy();
  return report;
}
