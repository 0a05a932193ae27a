import { DamperError, ERR_CONFIG } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `1s`, `5m`, `2h`, `7d` or a plain number of milliseconds. */
export function parseDuration(value: unknown, key: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
    if (m) return Number(m[1]) * UNITS[m[2] ?? 'ms'];
  }
  throw new DamperError(ERR_CONFIG, `${key}: expected a duration like 500ms, 1s, 5m, 2h or 7d, got ${JSON.stringify(value)}`);
}
