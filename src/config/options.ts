// The engine's resolved configuration (SPEC §2 keys plus `actions.retention`).
export interface DamperConfig {
  listen: { host: string; port: number };
  data: { dir: string };
  /** Empty: no rules file (no rules until PUT /v1/rules). */
  rules: { file: string };
  engine: { workers: number; shards: number; tickMs: number; buckets: number };
  /** maxFramesPerSecond: per ingest connection (HTTP: per device or client address); 0 = no limit. */
  limits: { maxFrameBytes: number; maxFramesPerSecond: number };
  auth: { devices: 'open' | 'token'; adminToken: string };
  demo: { fleet: number };
  actions: { retention: { maxAgeMs: number; maxRecords: number } };
  /** Start even when uWebSockets.js fell back to its `ws` shim. */
  allowUwsFallback: boolean;
  /** `--demo`: bundled rules, a simulated fleet, URLs printed at start. */
  demoMode: boolean;
}

export const DEFAULT_CONFIG: DamperConfig = {
  listen: { host: '127.0.0.1', port: 7400 },
  data: { dir: './data' },
  rules: { file: './rules.yaml' },
  engine: { workers: 1, shards: 4, tickMs: 1000, buckets: 20 },
  limits: { maxFrameBytes: 1_048_576, maxFramesPerSecond: 0 },
  auth: { devices: 'open', adminToken: '' },
  demo: { fleet: 0 },
  actions: { retention: { maxAgeMs: 7 * 86_400_000, maxRecords: 10_000_000 } },
  allowUwsFallback: false,
  demoMode: false,
};
