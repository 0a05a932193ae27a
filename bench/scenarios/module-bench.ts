// Kernel, rule VM and action stream benches are owned by their engineers (bench/kernel.ts,
// bench/rules.ts, bench/actions.ts); the runner only loads them, so a missing or broken
// one shows up as a note instead of stopping the run.
import type { BenchRow } from '../lib/row.js';
import { failedRow, type ScenarioContext } from './types.js';

type BenchFn = (opts: { quick?: boolean }) => Promise<BenchRow[]>;

export function moduleBench(file: string, exportName: string, scenario: string) {
  return async (ctx: ScenarioContext, out: BenchRow[]): Promise<void> => {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(file)) as Record<string, unknown>;
    } catch (err) {
      out.push(failedRow(scenario, `not available: ${(err as Error).message}`));
      return;
    }
    const fn = mod[exportName] as BenchFn | undefined;
    if (typeof fn !== 'function') {
      out.push(failedRow(scenario, `${file} does not export ${exportName}`));
      return;
    }
    out.push(...(await fn({ quick: ctx.quick })));
  };
}
