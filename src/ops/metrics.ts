// Engine metrics (SPEC §6). The ingress and dispatcher bump plain counters (called per frame
// or per batch on the main thread, so no allocation after a label value is first seen);
// figures owned by shards and workers are pulled from a MetricsSource at scrape time.
import hdr from 'hdr-histogram-js';
import { ExpositionWriter, PROMETHEUS_CONTENT_TYPE } from './exposition.js';
import { ProcessMetrics } from './process-metrics.js';

export { PROMETHEUS_CONTENT_TYPE };

export interface MetricsSource {
  eventsApplied(): number;
  lateEvents(): number;
  shardQueueBytes(): number[];
  workerBusySeconds(): number;
  rulesVersion(): number;
}

export interface EngineMetricsOptions {
  /** Quantiles cover observations of the last one to two windows (default 60 s). */
  quantileWindowMs?: number;
  now?: () => number;
  /** Also expose process CPU, memory and event-loop delay (default true). */
  processMetrics?: boolean;
}

/** SPEC §3 wire error codes: always exposed, so a dashboard sees 0 rather than nothing. */
export const REJECT_CODES = [
  'bad_frame',
  'bad_event',
  'unknown_device',
  'unauthorized',
  'rate_limited',
  'too_large',
  'overloaded',
] as const;
export const QUANTILES = [0.5, 0.9, 0.99, 0.999] as const;

type Histogram = ReturnType<typeof hdr.build>;

export class EngineMetrics {
  private framesWs = 0;
  private framesHttp = 0;
  private eventsInCount = 0;
  private readonly rejectedByCode = new Map<string, number>(REJECT_CODES.map((c) => [c, 0]));
  private readonly conns = { device: 0, gateway: 0, actions: 0 };
  private readonly actionsByRule = new Map<string, Map<string, number>>();
  private source: MetricsSource | null = null;

  // Latency in microseconds; two histograms so quantiles track recent behaviour
  // while _count and _sum stay cumulative, as Prometheus summaries expect.
  private current: Histogram = newHistogram();
  private previous: Histogram = newHistogram();
  private rotatedAt: number;
  private latencyCount = 0;
  private latencySum = 0;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly process: ProcessMetrics | null;

  constructor(opts: EngineMetricsOptions = {}) {
    this.windowMs = opts.quantileWindowMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.rotatedAt = this.now();
    this.process = opts.processMetrics === false ? null : new ProcessMetrics();
  }

  /** Stops the event-loop sampler. */
  close(): void {
    this.process?.close();
  }

  frames(transport: 'ws' | 'http', n = 1): void {
    if (transport === 'ws') this.framesWs += n;
    else this.framesHttp += n;
  }

  eventsIn(n: number): void {
    this.eventsInCount += n;
  }

  rejected(code: string, n = 1): void {
    this.rejectedByCode.set(code, (this.rejectedByCode.get(code) ?? 0) + n);
  }

  connections(kind: 'device' | 'gateway' | 'actions', delta: number): void {
    this.conns[kind] += delta;
  }

  actions(rule: string, state: string, n = 1): void {
    let byState = this.actionsByRule.get(rule);
    if (byState === undefined) {
      byState = new Map();
      this.actionsByRule.set(rule, byState);
    }
    byState.set(state, (byState.get(state) ?? 0) + n);
  }

  ingestToAction(seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    const s = seconds < 0 ? 0 : seconds; // clock steps must not poison the histogram
    this.maybeRotate();
    this.current.recordValue(Math.round(s * 1e6));
    this.latencyCount++;
    this.latencySum += s;
  }

  setSource(source: MetricsSource): void {
    this.source = source;
  }

  /** Current counter values, for tests and the dashboard's server-side needs. */
  snapshot(): { framesWs: number; framesHttp: number; eventsIn: number; rejected: Record<string, number>; connections: Record<'device' | 'gateway' | 'actions', number> } {
    return {
      framesWs: this.framesWs,
      framesHttp: this.framesHttp,
      eventsIn: this.eventsInCount,
      rejected: Object.fromEntries(this.rejectedByCode),
      connections: { ...this.conns },
    };
  }

  render(): string {
    const src = this.source;
    const w = new ExpositionWriter();
    w.family('damper_events_applied_total', 'counter', 'Events the kernel has applied.')
      .sample('damper_events_applied_total', src ? src.eventsApplied() : 0);
    w.family('damper_events_in_total', 'counter', 'Events in frames accepted by ingress.')
      .sample('damper_events_in_total', this.eventsInCount);
    w.family('damper_events_rejected_total', 'counter', 'Rejected frames and events by SPEC error code.');
    for (const [code, n] of this.rejectedByCode) w.sample('damper_events_rejected_total', n, { code });
    w.family('damper_late_events_total', 'counter', 'Events older than a window of a feature that reads them.')
      .sample('damper_late_events_total', src ? src.lateEvents() : 0);
    w.family('damper_frames_total', 'counter', 'Frames received, by transport.')
      .sample('damper_frames_total', this.framesWs, { transport: 'ws' })
      .sample('damper_frames_total', this.framesHttp, { transport: 'http' });
    w.family('damper_connections', 'gauge', 'Open WebSocket connections, by kind.')
      .sample('damper_connections', this.conns.device, { kind: 'device' })
      .sample('damper_connections', this.conns.gateway, { kind: 'gateway' })
      .sample('damper_connections', this.conns.actions, { kind: 'actions' });
    w.family('damper_actions_total', 'counter', 'Action records emitted, by rule and state.');
    for (const [rule, byState] of this.actionsByRule) {
      for (const [state, n] of byState) w.sample('damper_actions_total', n, { rule, state });
    }
    w.family('damper_shard_queue_bytes', 'gauge', 'Bytes waiting in each shard ring.');
    if (src) {
      const q = src.shardQueueBytes();
      for (let i = 0; i < q.length; i++) w.sample('damper_shard_queue_bytes', q[i]!, { shard: String(i) });
    }
    w.family('damper_worker_busy_seconds_total', 'counter', 'Time workers spent draining shards.')
      .sample('damper_worker_busy_seconds_total', src ? src.workerBusySeconds() : 0);
    w.family('damper_rules_version', 'gauge', 'Version of the active rule set.')
      .sample('damper_rules_version', src ? src.rulesVersion() : 0);
    this.renderLatency(w);
    this.process?.render(w);
    return w.text();
  }

  private renderLatency(w: ExpositionWriter): void {
    this.maybeRotate();
    const name = 'damper_ingest_to_action_seconds';
    w.family(name, 'summary', 'Time from a frame reaching ingress to its action record being published.');
    const merged = newHistogram();
    merged.add(this.previous);
    merged.add(this.current);
    const empty = merged.totalCount === 0;
    for (const q of QUANTILES) {
      w.sample(name, empty ? NaN : merged.getValueAtPercentile(q * 100) / 1e6, { quantile: String(q) });
    }
    merged.destroy();
    w.sample(`${name}_sum`, this.latencySum);
    w.sample(`${name}_count`, this.latencyCount);
  }

  private maybeRotate(): void {
    const t = this.now();
    if (t - this.rotatedAt < this.windowMs) return;
    // After more than two windows of silence both halves are stale.
    const stale = t - this.rotatedAt >= 2 * this.windowMs;
    const old = this.previous;
    this.previous = this.current;
    old.reset();
    this.current = old;
    if (stale) this.previous.reset();
    this.rotatedAt = t;
  }
}

function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true });
}
