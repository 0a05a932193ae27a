// Durations of the rule language (SPEC §4.1): `500ms 10s 5m 2h 1d`. A fraction is accepted
// when it comes to a whole number of milliseconds (`1.5m` = 90s), because windows, buckets
// and timers all count whole milliseconds in the kernel.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Largest first: canonical text uses the largest unit that divides the duration exactly. */
const UNITS_DESC: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Longest duration the language accepts: 365 days keeps every timer exact in a double. */
export const MAX_DURATION_MS = 365 * 86_400_000;

/** Milliseconds of a duration literal, or null when it is not one (or not whole ms). */
export function parseDuration(text: string): number | null {
  const m = DURATION_RE.exec(text);
  if (m === null) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  // Decimal fractions of a unit are inexact in binary; round only float noise away.
  const rounded = Math.round(ms);
  if (Math.abs(ms - rounded) > 1e-6 || !Number.isFinite(ms)) return null;
  return rounded;
}

/** SPEC §4.1 canonical text: the largest unit that divides `ms` exactly (`90s`, `5m`, `1500ms`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of UNITS_DESC) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
