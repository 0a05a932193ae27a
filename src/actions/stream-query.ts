// Query parameters of ws /v1/actions and GET /v1/actions, validated once at the door.

export type RecordFormat = 'json' | 'msgpack';

export interface RecordFilter {
  /** Rule ids to keep; null keeps all. */
  rules: ReadonlySet<string> | null;
  /** Device id to keep; null keeps all. */
  device: string | null;
}

export interface StreamQuery {
  from: number | null;
  limit: number | null;
  consumer: string | null;
  format: RecordFormat;
  filter: RecordFilter;
}

export type QueryResult = { ok: true; query: StreamQuery } | { ok: false; message: string };

const NAME_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const SEQ_RE = /^\d{1,15}$/;

export function keepRecord(filter: RecordFilter, rule: string, device: string): boolean {
  if (filter.device !== null && filter.device !== device) return false;
  return filter.rules === null || filter.rules.has(rule);
}

/** `get` returns the decoded value of a query parameter, '' or undefined when absent. */
export function parseStreamQuery(get: (key: string) => string | undefined): QueryResult {
  const fromText = get('from');
  const limitText = get('limit');
  const consumer = get('consumer') || null;
  const formatText = get('format') || 'json';
  const ruleText = get('rule');
  const device = get('device') || null;

  let from: number | null = null;
  if (fromText) {
    if (!SEQ_RE.test(fromText)) return { ok: false, message: 'from must be a non-negative integer' };
    from = Number(fromText);
  }
  let limit: number | null = null;
  if (limitText) {
    if (!SEQ_RE.test(limitText)) return { ok: false, message: 'limit must be a non-negative integer' };
    limit = Number(limitText);
  }
  if (formatText !== 'json' && formatText !== 'msgpack') {
    return { ok: false, message: 'format must be json or msgpack' };
  }
  if (consumer !== null && !NAME_RE.test(consumer)) {
    return { ok: false, message: 'consumer must be 1..128 characters of [A-Za-z0-9._:-]' };
  }
  if (device !== null && !NAME_RE.test(device)) {
    return { ok: false, message: 'device must be 1..128 characters of [A-Za-z0-9._:-]' };
  }
  let rules: Set<string> | null = null;
  if (ruleText) {
    rules = new Set();
    for (const id of ruleText.split(',')) {
      if (!NAME_RE.test(id)) return { ok: false, message: `bad rule id '${id}'` };
      rules.add(id);
    }
  }
  return { ok: true, query: { from, limit, consumer, format: formatText, filter: { rules, device } } };
}
