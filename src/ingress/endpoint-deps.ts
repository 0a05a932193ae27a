// What both ingest endpoints (ws /v1/ingest and POST /v1/events) are given by the engine.
import type { EngineMetrics } from '../ops/metrics.js';
import type { ReplyTargets } from '../shard/reply-targets.js';
import type { IngestCore } from './ingest-core.js';

export interface IngressEndpointDeps {
  core: IngestCore;
  replies: ReplyTargets;
  metrics: EngineMetrics;
  maxFrameBytes: number;
  /** 0: unlimited. The socket limits per connection, HTTP per device (`?device`) or client address. */
  maxFramesPerSecond: number;
  devicesMode: 'open' | 'token';
  adminToken: string;
  checkDeviceToken(id: string, token: string | undefined): boolean;
  /** False while starting or draining: new work gets 503. */
  accepting(): boolean;
}
