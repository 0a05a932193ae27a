// The device API (SPEC §6): GET/PUT/DELETE /v1/devices/ID, plus GET /v1/devices to list ids.
// The registry holds attributes and tokens; live features and rule states come from the
// engine, which owns the kernel.
import type uWS from 'uWebSockets.js';
import { DamperError } from '../errors.js';
import type { DeviceRegistry } from '../registry/device-registry.js';
import { isValidDeviceId, toDeviceRecord } from '../registry/validate.js';
import { BodyTooLarge, decodeSegment, readBody, Reply } from './http.js';

export interface DeviceView {
  clock: number;
  features: Record<string, number>;
  rules: Record<string, 'idle' | 'pending' | 'firing'>;
}

export interface DeviceEngine {
  /** null: the device has no kernel state yet. */
  queryDevice(id: string): Promise<DeviceView | null>;
  /** After PUT: push the new attributes to the kernel. */
  attrsChanged(id: string): void;
  /** After DELETE. */
  deviceRemoved(id: string): void;
}

export interface DeviceApiDeps {
  registry: DeviceRegistry;
  engine: DeviceEngine;
  authorize(req: uWS.HttpRequest): boolean;
}

/** A device record is a few KiB at most (64 attributes of ≤ 256 bytes). */
export const MAX_DEVICE_BODY_BYTES = 64 * 1024;
const DEFAULT_LIST_LIMIT = 1000;
const MAX_LIST_LIMIT = 10_000;

export function mountDeviceApi(app: uWS.TemplatedApp, deps: DeviceApiDeps): void {
  const { registry, engine, authorize } = deps;

  app.get('/v1/devices', (res, req) => {
    const reply = new Reply(res);
    if (!authorize(req)) return reply.error(401, 'unauthorized', 'admin token required');
    const rawLimit = req.getQuery('limit');
    const after = req.getQuery('after') ?? '';
    const limit = rawLimit ? Number(rawLimit) : DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      return reply.error(400, 'bad_request', `limit must be an integer in 1..${MAX_LIST_LIMIT}`);
    }
    reply.json(200, { count: registry.count(), devices: registry.page(after, limit) });
  });

  app.get('/v1/devices/:id', (res, req) => {
    const reply = new Reply(res);
    if (!authorize(req)) return reply.error(401, 'unauthorized', 'admin token required');
    const id = deviceId(req, reply);
    if (id === undefined) return;
    const rec = registry.get(id);
    if (rec === undefined) return reply.error(404, 'not_found', `unknown device '${id}'`);
    engine.queryDevice(id).then(
      (view) => {
        // Attributes are read after the query so a PUT that raced it is not shown stale.
        const attrs = registry.get(id)?.attrs ?? rec.attrs;
        reply.json(200, {
          device: id,
          attrs,
          clock: view === null || Number.isNaN(view.clock) ? null : view.clock,
          features: view?.features ?? {},
          rules: view?.rules ?? {},
        });
      },
      (err: unknown) => reply.error(500, 'internal', errorMessage(err)),
    );
  });

  app.put('/v1/devices/:id', (res, req) => {
    const reply = new Reply(res);
    // The request object is only valid until the handler returns: read everything first.
    const allowed = authorize(req);
    const id = deviceId(req, reply, allowed);
    const body = readBody(res, reply, MAX_DEVICE_BODY_BYTES);
    if (!allowed) {
      body.catch(() => undefined);
      return reply.error(401, 'unauthorized', 'admin token required');
    }
    if (id === undefined) return void body.catch(() => undefined);
    body
      .then(async (bytes) => {
        let input: unknown;
        try {
          input = JSON.parse(bytes.toString('utf8'));
        } catch {
          return reply.error(400, 'bad_request', 'body must be JSON {"attrs": {...}, "token"?: "..."}');
        }
        const rec = toDeviceRecord(input);
        const existed = registry.get(id) !== undefined;
        await registry.put(id, rec);
        engine.attrsChanged(id);
        reply.json(existed ? 200 : 201, { device: id, attrs: rec.attrs });
      })
      .catch((err: unknown) => {
        if (err instanceof BodyTooLarge) return reply.error(413, 'too_large', err.message);
        if (err instanceof DamperError && err.code === 'DAMPER_ERR_BAD_DEVICE') {
          return reply.error(400, 'bad_request', err.message);
        }
        reply.error(500, 'internal', errorMessage(err));
      });
  });

  app.del('/v1/devices/:id', (res, req) => {
    const reply = new Reply(res);
    if (!authorize(req)) return reply.error(401, 'unauthorized', 'admin token required');
    const id = deviceId(req, reply);
    if (id === undefined) return;
    registry.remove(id).then(
      (existed) => {
        if (!existed) return reply.error(404, 'not_found', `unknown device '${id}'`);
        engine.deviceRemoved(id);
        reply.empty(204);
      },
      (err: unknown) => reply.error(500, 'internal', errorMessage(err)),
    );
  });
}

/** The decoded, validated id of the route, or undefined after answering 400. */
function deviceId(req: uWS.HttpRequest, reply: Reply, answer = true): string | undefined {
  const id = decodeSegment(req.getParameter(0) ?? '');
  if (id !== undefined && isValidDeviceId(id)) return id;
  if (answer) reply.error(400, 'bad_request', 'device id must be 1..128 characters of [A-Za-z0-9._:-]');
  return undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
