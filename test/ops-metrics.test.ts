import { describe, expect, it } from 'vitest';
import { EngineMetrics, QUANTILES, REJECT_CODES, type MetricsSource } from '../src/ops/metrics.js';
import { parseExposition, sampleValue } from '../src/ops/parse-exposition.js';

/** A source with real mutable state, like the core's shard bookkeeping. */
class Counters implements MetricsSource {
  applied = 0;
  late = 0;
  queues = [0, 0, 0];
  busy = 0;
  version = 1;
  eventsApplied(): number { return this.applied; }
  lateEvents(): number { return this.late; }
  shardQueueBytes(): number[] { return this.queues; }
  workerBusySeconds(): number { return this.busy; }
  rulesVersion(): number { return this.version; }
}

const SPEC_FAMILIES: Record<string, string> = {
  damper_events_applied_total: 'counter',
  damper_events_rejected_total: 'counter',
  damper_late_events_total: 'counter',
  damper_frames_total: 'counter',
  damper_connections: 'gauge',
  damper_actions_total: 'counter',
  damper_shard_queue_bytes: 'gauge',
  damper_worker_busy_seconds_total: 'counter',
  damper_rules_version: 'gauge',
  damper_ingest_to_action_seconds: 'summary',
};

describe('EngineMetrics Prometheus exposition', () => {
  it('renders every SPEC §6 family with HELP and TYPE even before anything happened', () => {
    const fams = parseExposition(new EngineMetrics().render());
    for (const [name, type] of Object.entries(SPEC_FAMILIES)) {
      expect(fams.get(name)?.type, name).toBe(type);
      expect(fams.get(name)?.help.length, name).toBeGreaterThan(0);
    }
    for (const code of REJECT_CODES) {
      expect(sampleValue(fams, 'damper_events_rejected_total', { code })).toBe(0);
    }
    expect(Number.isNaN(sampleValue(fams, 'damper_ingest_to_action_seconds', { quantile: '0.5' }))).toBe(true);
    expect(sampleValue(fams, 'damper_ingest_to_action_seconds_count')).toBe(0);
  });

  it('counts what it was told and reads the source at scrape time', () => {
    const m = new EngineMetrics();
    const src = new Counters();
    m.setSource(src);
    m.frames('ws');
    m.frames('ws', 4);
    m.frames('http', 2);
    m.eventsIn(120);
    m.rejected('bad_event');
    m.rejected('bad_event', 2);
    m.rejected('overloaded', 5);
    m.connections('device', 3);
    m.connections('device', -1);
    m.connections('gateway', 1);
    m.connections('actions', 2);
    m.actions('too-hot', 'fired', 2);
    m.actions('too-hot', 'cleared');
    m.actions('errors-accelerating', 'fired');
    src.applied = 117;
    src.late = 3;
    src.queues = [0, 4096, 24];
    src.busy = 1.25;
    src.version = 7;

    const f = parseExposition(m.render());
    expect(sampleValue(f, 'damper_frames_total', { transport: 'ws' })).toBe(5);
    expect(sampleValue(f, 'damper_frames_total', { transport: 'http' })).toBe(2);
    expect(sampleValue(f, 'damper_events_in_total')).toBe(120);
    expect(sampleValue(f, 'damper_events_applied_total')).toBe(117);
    expect(sampleValue(f, 'damper_late_events_total')).toBe(3);
    expect(sampleValue(f, 'damper_events_rejected_total', { code: 'bad_event' })).toBe(3);
    expect(sampleValue(f, 'damper_events_rejected_total', { code: 'overloaded' })).toBe(5);
    expect(sampleValue(f, 'damper_events_rejected_total', { code: 'bad_frame' })).toBe(0);
    expect(sampleValue(f, 'damper_connections', { kind: 'device' })).toBe(2);
    expect(sampleValue(f, 'damper_connections', { kind: 'gateway' })).toBe(1);
    expect(sampleValue(f, 'damper_connections', { kind: 'actions' })).toBe(2);
    expect(sampleValue(f, 'damper_actions_total', { rule: 'too-hot', state: 'fired' })).toBe(2);
    expect(sampleValue(f, 'damper_actions_total', { rule: 'too-hot', state: 'cleared' })).toBe(1);
    expect(sampleValue(f, 'damper_actions_total', { rule: 'errors-accelerating', state: 'fired' })).toBe(1);
    expect(f.get('damper_shard_queue_bytes')!.samples.map((s) => [s.labels.shard, s.value])).toEqual([
      ['0', 0],
      ['1', 4096],
      ['2', 24],
    ]);
    expect(sampleValue(f, 'damper_worker_busy_seconds_total')).toBe(1.25);
    expect(sampleValue(f, 'damper_rules_version')).toBe(7);

    // Scrape time, not registration time: later changes show up in the next render.
    src.applied = 200;
    expect(sampleValue(parseExposition(m.render()), 'damper_events_applied_total')).toBe(200);
  });

  it('escapes label values (backslash, quote, newline) so they round-trip', () => {
    const m = new EngineMetrics();
    const nasty = 'a"b\\c\nd';
    m.actions(nasty, 'fired');
    m.rejected('weird"code');
    const text = m.render();
    expect(text).toContain('rule="a\\"b\\\\c\\nd"');
    const f = parseExposition(text);
    expect(sampleValue(f, 'damper_actions_total', { rule: nasty, state: 'fired' })).toBe(1);
    expect(sampleValue(f, 'damper_events_rejected_total', { code: 'weird"code' })).toBe(1);
    for (const line of text.split('\n').slice(0, -1)) expect(line).not.toBe('');
  });

  it('reports ingest-to-action quantiles from an HDR histogram with _count and _sum', () => {
    const m = new EngineMetrics();
    // 1..1000 ms, one each: quantile q is about q seconds.
    let sum = 0;
    for (let i = 1; i <= 1000; i++) {
      m.ingestToAction(i / 1000);
      sum += i / 1000;
    }
    m.ingestToAction(NaN); // ignored
    m.ingestToAction(-0.5); // clock step: counted as 0
    const f = parseExposition(m.render());
    const fam = f.get('damper_ingest_to_action_seconds')!;
    expect(fam.samples.filter((s) => s.labels.quantile !== undefined).map((s) => s.labels.quantile)).toEqual(
      QUANTILES.map(String),
    );
    for (const q of QUANTILES) {
      const v = sampleValue(f, 'damper_ingest_to_action_seconds', { quantile: String(q) })!;
      // HDR with 3 significant digits: within 0.1 % of the true order statistic (plus one rank).
      expect(Math.abs(v - q)).toBeLessThan(q * 0.002 + 0.002);
    }
    expect(sampleValue(f, 'damper_ingest_to_action_seconds_count')).toBe(1001);
    expect(sampleValue(f, 'damper_ingest_to_action_seconds_sum')).toBeCloseTo(sum, 9);
  });

  it('quantiles forget old windows while _count and _sum stay cumulative', () => {
    let now = 0;
    const m = new EngineMetrics({ quantileWindowMs: 1000, now: () => now });
    m.ingestToAction(5);
    now = 1500; // one rotation: the old window still counts
    m.ingestToAction(0.001);
    let f = parseExposition(m.render());
    expect(sampleValue(f, 'damper_ingest_to_action_seconds', { quantile: '0.999' })).toBeGreaterThan(4.9);
    now = 2600; // another rotation: the 5 s observation is gone
    f = parseExposition(m.render());
    expect(sampleValue(f, 'damper_ingest_to_action_seconds', { quantile: '0.999' })).toBeLessThan(0.01);
    now = 10_000; // long silence: nothing recent
    f = parseExposition(m.render());
    expect(Number.isNaN(sampleValue(f, 'damper_ingest_to_action_seconds', { quantile: '0.5' }))).toBe(true);
    expect(sampleValue(f, 'damper_ingest_to_action_seconds_count')).toBe(2);
    expect(sampleValue(f, 'damper_ingest_to_action_seconds_sum')).toBeCloseTo(5.001, 9);
  });

  it('exposes process CPU, memory and main-thread event-loop delay, unless turned off', async () => {
    const m = new EngineMetrics();
    const t = Date.now();
    while (Date.now() - t < 30); // block the loop a little, so there is a delay to see
    await new Promise((r) => setTimeout(r, 30));
    const f = parseExposition(m.render());
    expect(f.get('process_cpu_seconds_total')?.type).toBe('counter');
    expect(sampleValue(f, 'process_cpu_seconds_total')!).toBeGreaterThan(0);
    expect(sampleValue(f, 'process_resident_memory_bytes')!).toBeGreaterThan(1e6);
    expect(Math.abs(sampleValue(f, 'process_start_time_seconds')! - (Date.now() / 1000 - process.uptime()))).toBeLessThan(2);
    expect(f.get('damper_event_loop_delay_seconds')?.type).toBe('summary');
    expect(sampleValue(f, 'damper_event_loop_delay_max_seconds')!).toBeGreaterThan(0);
    m.close();
    const off = parseExposition(new EngineMetrics({ processMetrics: false }).render());
    expect(off.has('process_cpu_seconds_total')).toBe(false);
  });

  it('the parser rejects malformed exposition', () => {
    expect(() => parseExposition('x 1')).toThrow(/newline/);
    expect(() => parseExposition('x 1\n')).toThrow(/outside its family/);
    expect(() => parseExposition('# HELP x h\n# TYPE x counter\nx{a="b} 1\n')).toThrow(/cannot parse|bad labels/);
    expect(() => parseExposition('# HELP x h\n# TYPE x counter\nx one\n')).toThrow(/bad value/);
  });
});
