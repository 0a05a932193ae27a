// POST /v1/events (SPEC §3.2): msgpack or JSON bodies of the same shapes as the socket.
// With ?device=ID the body goes to the device's shard as is; otherwise it is routed by each
// event's `d`, like a gateway frame. `202 {accepted}` means validated and queued in order
// (HTTP's "accepted for processing"): uWS closes pipelining connections whose previous
// response is still pending, so the answer cannot wait for the worker. `?wait=applied`
// waits until the kernel applied the events instead (no pipelining on that connection).
import type uWS from 'uWebSockets.js';
import { RF_HTTP, RK_FRAME_JSON, RK_FRAME_MSGPACK } from '../../assembly/layout.js';
import { isDeviceId } from '../shard/names.js';
import { RF_TEXT } from '../shard/ring-flags.js';
import { HTTP_STATUS, WIRE_CODES, type WireCode } from '../shard/wire-errors.js';
import { decodeQuery, requestToken, sameToken } from './auth.js';
import type { IngressEndpointDeps } from './endpoint-deps.js';
import { BodyValidator } from './body-validator.js';
import { decodeFrame, REPLY_APPLIED, REPLY_QUEUED } from './ingest-core.js';
import { KeyedRateLimit } from './rate-limit.js';

export type EventsHttpDeps = IngressEndpointDeps;

export function mountEventsHttp(app: uWS.TemplatedApp, deps: EventsHttpDeps): void {
  const { core, replies, metrics, maxFrameBytes } = deps;
  const limits = new KeyedRateLimit(deps.maxFramesPerSecond);
  const validator = new BodyValidator();

  app.post('/v1/events', (res, req) => {
    let done = false;
    res.onAborted(() => {
      done = true;
    });
    const answer = (status: string, body: object): void => {
      if (done) return;
      done = true;
      res.cork(() => {
        res.writeStatus(status).writeHeader('Content-Type', 'application/json').end(JSON.stringify(body));
      });
    };
    const fail = (code: WireCode, message: string, index = -1): void => {
      metrics.rejected(code);
      answer(HTTP_STATUS[code], { error: index >= 0 ? { code, message, index } : { code, message } });
    };
    metrics.frames('http');
    const text = req.getHeader('content-type').includes('json');
    const rawDevice = req.getQuery('device');
    const token = requestToken(req);
    const waitApplied = req.getQuery('wait') === 'applied';
    if (!deps.accepting()) return fail('overloaded', 'the engine is not accepting events');
    let device = '';
    if (rawDevice !== undefined && rawDevice !== '') {
      const id = decodeQuery(rawDevice);
      if (!isDeviceId(id)) return fail('bad_event', 'device must be 1..128 bytes of [A-Za-z0-9._:-]');
      if (deps.devicesMode === 'token' && !deps.checkDeviceToken(id, token)) return fail('unauthorized', 'bad or missing device token');
      device = id;
    } else if (deps.devicesMode === 'token' && !(deps.adminToken !== '' && sameToken(deps.adminToken, token))) {
      return fail('unauthorized', 'events naming devices with d need the admin token when device auth is on');
    }
    if (deps.maxFramesPerSecond > 0) {
      const key = device !== '' ? `d:${device}` : `a:${Buffer.from(res.getRemoteAddressAsText()).toString()}`;
      if (!limits.take(key, Date.now())) return fail('rate_limited', 'above limits.maxFramesPerSecond, slow down');
    }

    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > maxFrameBytes) return fail('too_large', `body above ${maxFrameBytes} bytes`);
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      const received = Date.now();
      if (device !== '') {
        const { shard, slot } = core.attach(device);
        const kind = text ? RK_FRAME_JSON : RK_FRAME_MSGPACK;
        if (!waitApplied) {
          // Validated here so the answer can be given now; the worker applies it in order.
          const n = validator.count(body, text, received);
          if (n < 0) return fail(WIRE_CODES[validator.code], validator.message, validator.index);
          if (!core.deviceFrame(shard, slot, kind, RF_HTTP | (text ? RF_TEXT : 0), 0, received, body)) {
            return fail('overloaded', 'the device shard is saturated, retry later');
          }
          return answer('202 Accepted', { accepted: n });
        }
        const id = replies.add({
          ack(_seq, accepted) {
            replies.remove(id);
            answer('202 Accepted', { accepted });
          },
          error(code, message, _seq, index) {
            replies.remove(id);
            fail(code as WireCode, message, index);
          },
        });
        const flags = RF_HTTP | (text ? RF_TEXT : 0);
        if (!core.deviceFrame(shard, slot, kind, flags, id, received, body)) {
          replies.remove(id);
          fail('overloaded', 'the device shard is saturated, retry later');
        }
        return;
      }
      const decoded = decodeFrame(body, text);
      if (!decoded.ok) return fail('bad_frame', text ? 'not valid JSON' : 'not valid msgpack');
      core.gatewayFrame(decoded.value, received, RF_HTTP, waitApplied ? REPLY_APPLIED : REPLY_QUEUED, null, (r) => {
        if (r.ok) answer('202 Accepted', { accepted: r.accepted });
        else fail(r.code as WireCode, r.message, r.index);
      });
    });
  });
}
