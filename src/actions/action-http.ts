// GET /v1/actions?from=SEQ&limit=N[&rule=..][&device=..][&format=msgpack]: the same log
// as the stream, one page at a time. The page says where to continue (`next`), so a
// client walks the log without knowing about gaps or filters.
import type uWS from 'uWebSockets.js';
import type { ActionLog } from './action-log.js';
import { decodeRecord, encodeFrame, recordJson } from './record-codec.js';
import { keepRecord, parseStreamQuery } from './stream-query.js';
import type { ActionRecord } from './types.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
/** Records scanned per request at most, so a rare filter cannot stall the main thread. */
const SCAN_BUDGET = 50_000;

export function mountActionHttp(
  app: uWS.TemplatedApp,
  log: ActionLog,
  published: () => number,
  authorize: (req: uWS.HttpRequest) => boolean,
  isClosed: () => boolean,
): void {
  app.get('/v1/actions', (res, req) => {
    if (isClosed()) {
      return sendJson(res, '503 Service Unavailable', { error: { code: 'unavailable', message: 'action service is shutting down' } });
    }
    if (!authorize(req)) {
      return sendJson(res, '401 Unauthorized', { error: { code: 'unauthorized', message: 'admin token required' } });
    }
    const parsed = parseStreamQuery((k) => req.getQuery(k));
    if (!parsed.ok) {
      return sendJson(res, '400 Bad Request', { error: { code: 'bad_request', message: parsed.message } });
    }
    const q = parsed.query;
    const last = published();
    const oldest = log.oldest();
    const from = q.from === null || q.from === 0 ? oldest : q.from;
    if (from < oldest && oldest > 1 && from <= last) {
      return sendJson(res, '410 Gone', {
        error: { code: 'out_of_range', message: `seq ${from} is no longer retained`, oldest },
      });
    }
    const limit = Math.min(q.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const msgpack = q.format === 'msgpack';
    const records: ActionRecord[] = [];
    const texts: string[] = [];
    let next = Math.max(from, oldest);
    let scanned = 0;
    while (records.length + texts.length < limit && next <= last && scanned < SCAN_BUDGET) {
      let n = 0;
      for (const { seq, bytes } of log.read(next, last, Math.min(1024, SCAN_BUDGET - scanned))) {
        n++;
        const rec = decodeRecord(bytes);
        if (keepRecord(q.filter, rec.rule, rec.device)) {
          if (msgpack) records.push(rec);
          else texts.push(recordJson(rec));
        }
        next = seq + 1;
        if (records.length + texts.length >= limit) break;
      }
      scanned += n;
      if (n === 0) next = last + 1;
    }
    if (msgpack) {
      res.writeStatus('200 OK').writeHeader('content-type', 'application/msgpack');
      res.end(encodeFrame({ records, next, last }));
    } else {
      res.writeStatus('200 OK').writeHeader('content-type', 'application/json');
      res.end(`{"records":[${texts.join(',')}],"next":${next},"last":${last}}`);
    }
  });
}

function sendJson(res: uWS.HttpResponse, status: string, body: object): void {
  res.writeStatus(status).writeHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}
