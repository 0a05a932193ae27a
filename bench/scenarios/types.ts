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

/** A row explaining why a scenario produced no figure. */
export function failedRow(scenario: string, err: unknown): BenchRow {
  const message = err instanceof Error ? err.message : String(err);
  return { scenario, metric: 'failed', value: NaN, unit: '', note: message.replace(/\s+/g, ' ').slice(0, 300) };
}
