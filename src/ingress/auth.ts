// Token extraction and checks shared by the ingest socket, POST /v1/events and the API.
import { timingSafeEqual } from 'node:crypto';
import type uWS from 'uWebSockets.js';

/** `Authorization: Bearer T`, else `?token=T`, else undefined. Call synchronously in the handler. */
export function requestToken(req: uWS.HttpRequest): string | undefined {
  const h = req.getHeader('authorization');
  if (h.length > 7 && h.slice(0, 7).toLowerCase() === 'bearer ') return h.slice(7).trim();
  const q = req.getQuery('token');
  return q === undefined || q === '' ? undefined : decodeQuery(q);
}

export function decodeQuery(v: string): string | undefined {
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

export function sameToken(expected: string, got: string | undefined): boolean {
  if (got === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(got);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The admin check: always true without an admin token. */
export function makeAuthorize(adminToken: string): (req: uWS.HttpRequest) => boolean {
  if (adminToken === '') return () => true;
  return (req) => sameToken(adminToken, requestToken(req));
}
