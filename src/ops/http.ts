// Small uWebSockets.js HTTP helpers for the operations endpoints: an abort-aware reply that
// corks deferred writes, and a bounded body reader (uWS reuses chunk buffers, so we copy).
import type uWS from 'uWebSockets.js';

const STATUS: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  413: '413 Payload Too Large',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

export class Reply {
  private done = false;

  constructor(private readonly res: uWS.HttpResponse) {
    res.onAborted(() => {
      this.done = true;
    });
  }

  get finished(): boolean {
    return this.done;
  }

  json(status: number, body: unknown, headers?: Record<string, string>): void {
    this.send(status, 'application/json', JSON.stringify(body), headers);
  }

  error(status: number, code: string, message: string): void {
    this.json(status, { error: { code, message } });
  }

  empty(status: number): void {
    this.send(status, undefined, undefined);
  }

  send(status: number, contentType: string | undefined, body: string | Uint8Array | undefined, headers?: Record<string, string>): void {
    if (this.done) return;
    this.done = true;
    // Corking is required outside the synchronous part of a handler and harmless inside it.
    this.res.cork(() => {
      this.res.writeStatus(STATUS[status] ?? `${status} Status`);
      if (contentType !== undefined) this.res.writeHeader('Content-Type', contentType);
      this.res.writeHeader('Cache-Control', 'no-store');
      if (headers) for (const k in headers) this.res.writeHeader(k, headers[k]!);
      if (body === undefined) this.res.endWithoutBody();
      else this.res.end(body);
    });
  }
}

export class BodyTooLarge extends Error {}

/**
 * Reads the request body up to `limit` bytes. Must be called in the synchronous part of
 * the handler (uWS delivers data only to handlers attached before it returns).
 */
export function readBody(res: uWS.HttpResponse, reply: Reply, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    res.onData((chunk, isLast) => {
      if (failed || reply.finished) return;
      size += chunk.byteLength;
      if (size > limit) {
        failed = true;
        reject(new BodyTooLarge(`body above ${limit} bytes`));
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) resolve(Buffer.concat(chunks, size));
    });
  });
}

/** Decodes a path segment; undefined when it is not valid percent-encoding. */
export function decodeSegment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}
