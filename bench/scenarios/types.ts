import type { BenchRow } from '../lib/row.js';

export interface ScenarioContext {
  quick: boolean;
  /** Rows of the scenarios that ran before this one in the same run (for in-run ratios). */
  rows: BenchRow[];
}

export interface Scenario {
  name: string;
  /** Upper bound before the runner kills it, seconds (full run; quick runs get a third). */
  timeoutS: number;
  /** Only runs when named with --only. */
  optIn?: boolean;
  /** Pushes rows into `out` as figures come in, so a failure late in a scenario keeps the earlier ones. */
  run(ctx: ScenarioContext, out: BenchRow[]): Promise<void>;
}


export function ratio(value: number, baseline: number): number | undefined {
  return Number.isFinite(value) && Number.isFinite(baseline) && baseline > 0 ? value / baseline : undefined;
}

/**
 * Damper's best sustained tuple ingest of this run (open loop or closed loop, whichever
 * applied more): the engine's own maximum, for latency at half load and the peer ratio.
 */
export function bestIngest(rows: BenchRow[]): number | undefined {
  const values = rows
    .filter((r) => r.scenario === 'ws-ingest' && r.metric.startsWith('applied events/s (tuple') && Number.isFinite(r.value))
    .map((r) => r.value);
  return values.length > 0 ? Math.max(...values) : undefined;
}

/** A row explaining why a scenario produced no figure. */
export function failedRow(scenario: string, err: unknown): BenchRow {
  const message = err instanceof Error ? err.message : String(err);
  return { scenario, metric: 'failed', value: NaN, unit: '', note: message.replace(/\s+/g, ' ').slice(0, 300) };
}
