// SPEC §1 name rules shared by the main thread (device ids, gateway routing) and workers (metrics).
const NAME_RE = /^[A-Za-z0-9._:-]+$/;

/** Device id: 1..128 bytes of [A-Za-z0-9._:-] (ASCII, so bytes = chars). */
export function isDeviceId(s: unknown): s is string {
  return typeof s === 'string' && s.length >= 1 && s.length <= 128 && NAME_RE.test(s);
}

/** Metric name: 1..64 bytes of the same charset. */
export function isMetricName(s: unknown): s is string {
  return typeof s === 'string' && s.length >= 1 && s.length <= 64 && NAME_RE.test(s);
}

/** FNV-1a over the id's UTF-16 code units (ids are ASCII): stable across restarts. */
export function hashDevice(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
