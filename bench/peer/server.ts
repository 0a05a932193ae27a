// The peer baseline: the engine a Node team would write without Damper. A `ws` server,
// msgpackr decoding, plain-TS sliding windows (window-features.ts: the reference model's
// semantics, kept incrementally) and json-rules-engine evaluating the same rules, one
// device's frame at a time. It speaks
// enough of the SPEC for the same simulator to drive it: device connections, the frame
// shapes, `{seq, events}` acks, PUT /v1/devices/ID attributes and /metrics.
// Rules run once per frame per device (after the frame's events), which is kinder to the
// peer than Damper's per-event evaluation.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Packr } from 'msgpackr';
import { WebSocketServer, type WebSocket } from 'ws';
import { NameTables, compileRules } from '../../src/rules/index.js';
import { WindowFeatures } from './window-features.js';
import { numericAttr, type AttrValue } from '../../src/reference/rules-expr.js';
import { PeerRules, type PeerDevice } from './rules-engine.js';

const rulesIndex = process.argv.indexOf('--rules');
const rulesText = readFileSync(process.argv[rulesIndex + 1], 'utf8');
const tables = new NameTables();
const compiled = compileRules(rulesText, { tables, version: 1 });
if (!compiled.ok) {
  process.stderr.write(`peer: bad rules: ${compiled.errors.join('; ')}\n`);
  process.exit(1);
}
const spec = compiled.spec;
const features = new WindowFeatures(spec);
const rules = new PeerRules(spec);
const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const metricIds = new Map(spec.metrics.map((m, i) => [m, i]));

let applied = 0;
let rejected = 0;
let frames = 0;
const devices = new Map<string, PeerDevice>();
const attrsById = new Map<string, Map<number, AttrValue>>();
const clocks = new Float64Array(1 << 20).fill(NaN);

function device(id: string): PeerDevice {
  let d = devices.get(id);
  if (!d) {
    const slot = devices.size;
    const attrs = attrsById.get(id) ?? new Map<number, AttrValue>();
    const now = (): number => Date.now();
    d = rules.newDevice(slot, { feature: (f) => features.value(slot, f, now()), attr: (a) => numericAttr(attrs, a) }, attrs);
    devices.set(id, d);
  }
  return d;
}

type Ev = { d?: string; t?: number; m?: string; v?: number; values?: Record<string, number> } | unknown[];

/** Applies one event; returns the number of values applied, or -1 when invalid. */
function applyEvent(fallback: string | null, e: Ev, now: number, touched: Set<PeerDevice>): number {
  let id: string | null | undefined = fallback;
  const items: Array<[string, number, number]> = [];
  if (Array.isArray(e)) {
    if (e.length === 4) id = e[0] as string;
    const [t, m, v] = e.length === 4 ? e.slice(1) : e;
    items.push([m as string, typeof t === 'number' ? t : now, v as number]);
  } else if (e && typeof e === 'object') {
    id = e.d ?? fallback;
    const t = typeof e.t === 'number' ? e.t : now;
    if (e.values) for (const [m, v] of Object.entries(e.values)) items.push([m, t, v]);
    else items.push([e.m as string, t, e.v as number]);
  }
  if (typeof id !== 'string' || items.length === 0) return -1;
  for (const [m, , v] of items) if (typeof m !== 'string' || typeof v !== 'number' || !Number.isFinite(v)) return -1;
  const dev = device(id);
  for (const [m, t, v] of items) {
    const metric = metricIds.get(m);
    if (metric !== undefined) features.apply(dev.slot, metric, t, v, now);
    if (!(clocks[dev.slot] >= t)) clocks[dev.slot] = t;
  }
  touched.add(dev);
  return items.length;
}

async function handleFrame(ws: WebSocket, fallback: string | null, data: Buffer): Promise<void> {
  frames++;
  let msg: unknown;
  try {
    msg = packr.unpack(data);
  } catch {
    ws.send(packr.pack({ error: { code: 'bad_frame', message: 'not msgpack' } }));
    return;
  }
  const acked = msg !== null && typeof msg === 'object' && !Array.isArray(msg) && 'seq' in msg;
  const seq = acked ? (msg as { seq: number }).seq : undefined;
  const list = (acked ? (msg as { events: unknown }).events : msg) as unknown;
  const events = (Array.isArray(list) && (list.length === 0 || typeof list[0] === 'object') ? list : [list]) as Ev[];
  const now = Date.now();
  const touched = new Set<PeerDevice>();
  let n = 0;
  for (const e of events) {
    const k = applyEvent(fallback, e, now, touched);
    if (k < 0) {
      rejected += events.length - n;
      ws.send(packr.pack({ error: { code: 'bad_event', message: 'invalid event', seq } }));
      return;
    }
    n += k;
  }
  applied += n;
  for (const dev of touched) await rules.evaluate(dev, clocks[dev.slot]);
  if (acked) ws.send(packr.pack({ ack: seq, accepted: n }));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'GET' && url.pathname === '/metrics') {
    res.end(
      `damper_events_applied_total ${applied}\ndamper_events_rejected_total ${rejected}\n` +
        `damper_frames_total ${frames}\npeer_transitions_total ${rules.transitions}\n`,
    );
    return;
  }
  const m = /^\/v1\/devices\/([^/]+)$/.exec(url.pathname);
  if (req.method === 'PUT' && m) {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      try {
        const attrs = (JSON.parse(body) as { attrs: Record<string, string | number> }).attrs;
        const map = new Map<number, AttrValue>();
        for (const [k, v] of Object.entries(attrs)) {
          map.set(tables.attr(k), typeof v === 'number' ? { kind: 'number', value: v } : { kind: 'string', value: tables.string(v) });
        }
        const id = decodeURIComponent(m[1]);
        attrsById.set(id, map);
        const existing = devices.get(id);
        if (existing) {
          existing.attrs.clear();
          for (const [k, v] of map) existing.attrs.set(k, v);
        }
        res.writeHead(200).end('{}');
      } catch {
        res.writeHead(400).end('{"error":{"code":"bad_request"}}');
      }
    });
    return;
  }
  res.writeHead(404).end();
});

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname !== '/v1/ingest') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const fallback = url.searchParams.get('device');
    // Frames of one connection are handled in order; a connection with a backlog is paused
    // (socket backpressure) instead of buffering without bound.
    const queue: Buffer[] = [];
    let busy = false;
    const pump = async (): Promise<void> => {
      busy = true;
      while (queue.length > 0) {
        await handleFrame(ws, fallback, queue.shift()!);
        // json-rules-engine resolves through microtasks only: yield so sockets, /metrics
        // and signals are served while a backlog is worked off.
        await new Promise((r) => setImmediate(r));
        if (queue.length < 4 && ws.isPaused) ws.resume();
      }
      busy = false;
    };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      queue.push(data);
      if (queue.length > 16) ws.pause();
      if (!busy) void pump();
    });
    ws.on('error', () => ws.terminate());
  });
});

server.listen(0, '127.0.0.1', () => {
  const addr = server.address() as { port: number };
  process.stdout.write(`peer listening on http://127.0.0.1:${addr.port}\n`);
});
const stop = (): void => {
  wss.close();
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
