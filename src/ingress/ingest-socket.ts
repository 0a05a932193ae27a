// ws /v1/ingest (SPEC §3.1): device connections forward raw frames to their shard;
// gateway connections decode here only to re-route. Auth happens at the upgrade, so a bad
// token gets 401 before any frame is read.
import uWS from 'uWebSockets.js';
import { RK_FRAME_JSON, RK_FRAME_MSGPACK } from '../../assembly/layout.js';
import type { EngineMetrics } from '../ops/metrics.js';
import { MetricTable } from '../shard/metric-table.js';
import { MsgpackFrameReader } from '../shard/msgpack-frame-reader.js';
import { isDeviceId } from '../shard/names.js';
import type { ReplyTarget } from '../shard/reply-targets.js';
import { RF_TEXT } from '../shard/ring-flags.js';
import { decodeQuery, requestToken, sameToken } from './auth.js';
import type { IngressEndpointDeps } from './endpoint-deps.js';
import { decodeFrame, REPLY_WHEN_ACKED, type FrameReply } from './ingest-core.js';
import { OrderedReplies } from './ordered-replies.js';
import { FrameRateLimit } from './rate-limit.js';
import { ackMessage, encodeAckMsgpack, encodeReply, errorMessage } from './reply-encoding.js';

export interface IngestSocketDeps extends IngressEndpointDeps {
  shardCount: number;
}

interface Conn {
  device: string; // '' for gateways
  shard: number;
  slot: number;
  replyId: number;
  closed: boolean;
  ws: uWS.WebSocket<Conn> | null;
  dirty: Uint8Array | null;
  order: OrderedReplies | null;
  limit: FrameRateLimit;
  /** When the last refusal of a frame without seq was answered. */
  lastNotice: number;
  /** Binary acks held until the drain result is handed out: (seq, accepted) pairs. */
  acks: number[];
}

const NOTICE_INTERVAL_MS = 100;

export interface IngestSockets {
  /** Closes every ingest connection (1001) — used at the end of a drain. */
  closeAll(): void;
  count(): number;
}

export function mountIngestSocket(app: uWS.TemplatedApp, deps: IngestSocketDeps): IngestSockets {
  const { core, replies, metrics, maxFrameBytes } = deps;
  const open = new Set<uWS.WebSocket<Conn>>();
  const seqPeek = new MsgpackFrameReader(new MetricTable());

  // Acks of one drain result go out per connection under one cork (one syscall instead of
  // one per ack); anything else sent to a connection first sends its held acks, so replies
  // keep their order.
  const held: Conn[] = [];
  let corked: Conn | null = null;
  const sendHeld = (): void => {
    const c = corked as Conn;
    const ws = c.ws as uWS.WebSocket<Conn>;
    const q = c.acks;
    for (let i = 0; i < q.length; i += 2) ws.send(encodeAckMsgpack(q[i], q[i + 1]), true);
  };
  const flushAcks = (c: Conn): void => {
    if (!c.closed && c.ws !== null) {
      corked = c;
      c.ws.cork(sendHeld);
      corked = null;
    }
    c.acks.length = 0;
  };
  replies.onFlush(() => {
    for (let i = 0; i < held.length; i++) flushAcks(held[i]);
    held.length = 0;
  });
  const holdAck = (c: Conn, seq: number, accepted: number): void => {
    if (c.closed || c.ws === null) return;
    if (c.acks.length === 0) held.push(c);
    c.acks.push(seq, accepted);
  };

  const send = (c: Conn, msg: object, text: boolean): void => {
    const ws = c.ws;
    if (c.closed || ws === null) return;
    if (c.acks.length > 0) flushAcks(c);
    ws.cork(() => ws.send(encodeReply(msg, text), !text));
  };

  app.ws<Conn>('/v1/ingest', {
    compression: uWS.DISABLED,
    // Above the frame limit, so oversize frames reach us and close with 1009 instead of uWS's abrupt drop.
    maxPayloadLength: Math.min(maxFrameBytes * 2 + 65536, 256 * 1024 * 1024),
    // A client that does not read its replies is closed rather than have acks silently
    // dropped: it reconnects and resends what was not acked.
    maxBackpressure: 4 * 1024 * 1024,
    closeOnBackpressureLimit: 1,
    idleTimeout: 120,
    sendPingsAutomatically: true,

    upgrade: (res, req, context) => {
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const rawDevice = req.getQuery('device');
      const token = requestToken(req);
      const fail = (status: string, code: string, message: string): void => {
        metrics.rejected(code);
        res.writeStatus(status).writeHeader('Content-Type', 'application/json').end(JSON.stringify({ error: { code, message } }));
      };
      if (!deps.accepting()) return fail('503 Service Unavailable', 'overloaded', 'the engine is not accepting connections');
      let device = '';
      if (rawDevice !== undefined && rawDevice !== '') {
        const id = decodeQuery(rawDevice);
        if (!isDeviceId(id)) return fail('400 Bad Request', 'bad_event', 'device must be 1..128 bytes of [A-Za-z0-9._:-]');
        if (deps.devicesMode === 'token' && !deps.checkDeviceToken(id, token)) return fail('401 Unauthorized', 'unauthorized', 'bad or missing device token');
        device = id;
      } else if (deps.devicesMode === 'token' && !(deps.adminToken !== '' && sameToken(deps.adminToken, token))) {
        return fail('401 Unauthorized', 'unauthorized', 'gateway connections need the admin token when device auth is on');
      }
      const conn: Conn = { device, shard: 0, slot: 0, replyId: 0, closed: false, ws: null, dirty: null, order: null, limit: new FrameRateLimit(deps.maxFramesPerSecond), lastNotice: 0, acks: [] };
      res.upgrade(conn, key, protocol, extensions, context);
    },

    open: (ws) => {
      const c = ws.getUserData();
      c.ws = ws;
      open.add(ws);
      if (c.device !== '') {
        const { shard, slot } = core.attach(c.device);
        c.shard = shard;
        c.slot = slot;
        c.replyId = replies.add(deviceTarget(c, send, holdAck, metrics));
        metrics.connections('device', 1);
      } else {
        c.dirty = new Uint8Array(deps.shardCount);
        c.order = new OrderedReplies((msg, text) => send(c, msg, text));
        metrics.connections('gateway', 1);
      }
    },

    message: (ws, message, isBinary) => {
      const c = ws.getUserData();
      metrics.frames('ws');
      if (message.byteLength > maxFrameBytes) {
        metrics.rejected('too_large');
        ws.end(1009, 'frame too large');
        return;
      }
      const text = !isBinary;
      const received = Date.now();
      if (c.device !== '') {
        const bytes = new Uint8Array(message);
        if (!c.limit.take(received)) return refuse(c, bytes, text, received, 'rate_limited', 'above limits.maxFramesPerSecond, slow down');
        const ok = core.deviceFrame(c.shard, c.slot, text ? RK_FRAME_JSON : RK_FRAME_MSGPACK, text ? RF_TEXT : 0, c.replyId, received, bytes);
        if (!ok) refuse(c, bytes, text, received, 'overloaded', 'the device shard is saturated, retry later');
        return;
      }
      const order = c.order as OrderedReplies;
      const entry = order.reserve(text);
      if (!c.limit.take(received)) {
        metrics.rejected('rate_limited');
        order.fill(entry, errorMessage('rate_limited', 'above limits.maxFramesPerSecond, slow down', seqOf(decodeFrame(new Uint8Array(message), text)), -1));
        return;
      }
      const decoded = decodeFrame(new Uint8Array(message), text);
      if (!decoded.ok) {
        metrics.rejected('bad_frame');
        order.fill(entry, errorMessage('bad_frame', text ? 'not valid JSON' : 'not valid msgpack', NaN, -1));
        return;
      }
      const replies = core.gatewayFrame(decoded.value, received, text ? RF_TEXT : 0, REPLY_WHEN_ACKED, c.dirty, (r: FrameReply) => {
        order.fill(entry, replyMessage(r, metrics));
      });
      if (!replies) order.cancel(entry);
    },

    close: (ws) => {
      const c = ws.getUserData();
      c.closed = true;
      open.delete(ws);
      if (c.device !== '') {
        replies.remove(c.replyId);
        metrics.connections('device', -1);
      } else {
        metrics.connections('gateway', -1);
      }
    },
  });

  /** Refused before the ring (full, or over the rate): an acknowledged batch is nacked by seq. */
  function refuse(c: Conn, bytes: Uint8Array, text: boolean, received: number, code: 'overloaded' | 'rate_limited', message: string): void {
    metrics.rejected(code);
    let seq = NaN;
    if (text) seq = seqOf(decodeFrame(bytes, true));
    else {
      // Only the seq is needed: peek at it instead of decoding a frame we are refusing.
      seqPeek.bind(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      seq = seqPeek.peekSeq(0, bytes.byteLength);
    }
    if (seq !== seq) {
      // A frame without seq needs no individual answer: under a flood, one notice per
      // interval tells the client to slow down without doubling the traffic (all are counted).
      if (received - c.lastNotice < NOTICE_INTERVAL_MS) return;
      c.lastNotice = received;
    }
    send(c, errorMessage(code, message, seq, -1), text);
  }

  return {
    closeAll() {
      for (const ws of [...open]) ws.end(1001, 'server shutting down');
    },
    count() {
      return open.size;
    },
  };
}

/** `seq` of a decoded acknowledged batch, NaN otherwise (the slow path of refused frames only). */
function seqOf(d: ReturnType<typeof decodeFrame>): number {
  if (d.ok && typeof d.value === 'object' && d.value !== null && !Array.isArray(d.value)) {
    const s = (d.value as { seq?: unknown }).seq;
    if (typeof s === 'number' && Number.isSafeInteger(s) && s >= 0) return s;
  }
  return NaN;
}

function deviceTarget(
  c: Conn,
  send: (c: Conn, msg: object, text: boolean) => void,
  holdAck: (c: Conn, seq: number, accepted: number) => void,
  metrics: EngineMetrics,
): ReplyTarget {
  return {
    ack(seq, accepted, text) {
      if (text) return send(c, ackMessage(seq, accepted), text);
      holdAck(c, seq, accepted);
    },
    error(code, message, seq, index, text) {
      metrics.rejected(code);
      send(c, errorMessage(code, message, seq, index), text);
    },
  };
}

export function replyMessage(r: FrameReply, metrics: EngineMetrics): object {
  if (r.ok) return ackMessage(r.seq, r.accepted);
  metrics.rejected(r.code);
  return errorMessage(r.code, r.message, r.seq, r.index);
}
