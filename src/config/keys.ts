// Every configuration key with its environment variable and flag (precedence:
// flag > environment > file > default, SPEC §2).
export type KeyKind = 'string' | 'path' | 'int' | 'port' | 'duration' | 'devices';

export interface ConfigKey {
  /** Dotted path in the YAML file. */
  path: string;
  env: string;
  flag: string;
  kind: KeyKind;
  min?: number;
  help: string;
}

export const CONFIG_KEYS: ConfigKey[] = [
  { path: 'listen.host', env: 'DAMPER_HOST', flag: 'host', kind: 'string', help: 'interface to listen on' },
  { path: 'listen.port', env: 'DAMPER_PORT', flag: 'port', kind: 'port', help: 'port (0: any free port)' },
  { path: 'data.dir', env: 'DAMPER_DATA', flag: 'data', kind: 'path', help: 'embedded store directory' },
  { path: 'rules.file', env: 'DAMPER_RULES', flag: 'rules', kind: 'path', help: 'rules file (watched)' },
  { path: 'engine.workers', env: 'DAMPER_WORKERS', flag: 'workers', kind: 'int', min: 1, help: 'worker threads' },
  { path: 'engine.shards', env: 'DAMPER_SHARDS', flag: 'shards', kind: 'int', min: 1, help: 'shards (units of state and order)' },
  { path: 'engine.tick', env: 'DAMPER_TICK', flag: 'tick', kind: 'duration', help: 'wall-clock tick for age() rules' },
  { path: 'engine.buckets', env: 'DAMPER_BUCKETS', flag: 'buckets', kind: 'int', min: 1, help: 'default buckets per window' },
  { path: 'limits.maxFramesPerSecond', env: 'DAMPER_MAX_FRAMES_PER_SECOND', flag: 'max-frames-per-second', kind: 'int', min: 0, help: 'frames per second per connection, 0: unlimited (rate_limited)' },
  { path: 'limits.maxFrameBytes', env: 'DAMPER_MAX_FRAME_BYTES', flag: 'max-frame-bytes', kind: 'int', min: 64, help: 'largest accepted frame' },
  { path: 'auth.devices', env: 'DAMPER_AUTH_DEVICES', flag: 'auth-devices', kind: 'devices', help: 'open | token' },
  { path: 'auth.adminToken', env: 'DAMPER_ADMIN_TOKEN', flag: 'admin-token', kind: 'string', help: 'token for the API and /v1/actions' },
  { path: 'demo.fleet', env: 'DAMPER_DEMO_FLEET', flag: 'demo-fleet', kind: 'int', min: 0, help: 'simulated devices started in-process' },
  { path: 'actions.retention.maxAge', env: 'DAMPER_ACTIONS_MAX_AGE', flag: 'actions-max-age', kind: 'duration', help: 'action log retention by age' },
  { path: 'actions.retention.maxRecords', env: 'DAMPER_ACTIONS_MAX_RECORDS', flag: 'actions-max-records', kind: 'int', min: 1, help: 'action log retention by count' },
];
