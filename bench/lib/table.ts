// The one printed table, and the machine description that goes with it.
import os from 'node:os';
import type { BenchRow } from './row.js';

export function formatValue(v: number | undefined, unit = ''): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  let s: string;
  if (a >= 1e9) s = `${(v / 1e9).toFixed(2)}G`;
  else if (a >= 1e6) s = `${(v / 1e6).toFixed(2)}M`;
  else if (a >= 1e4) s = `${(v / 1e3).toFixed(1)}k`;
  else if (a >= 100) s = v.toFixed(0);
  else if (a >= 1) s = v.toFixed(2);
  else s = v.toPrecision(3);
  return unit ? `${s} ${unit}` : s;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memGiB: number;
  node: string;
  os: string;
  loadAvgAtStart: number[];
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

function cells(r: BenchRow): string[] {
  return [
    r.scenario,
    r.metric,
    formatValue(r.value, r.unit),
    r.baseline ? `${r.baseline}: ${formatValue(r.baselineValue)}` : '',
    r.ratio === undefined ? '' : `${r.ratio.toFixed(r.ratio >= 10 ? 1 : 2)}x`,
    r.target ?? '',
  ];
}

const HEADER = ['scenario', 'metric', 'value', 'baseline (same run)', 'ratio', 'target'];

/** Plain-text table for the terminal; notes follow as numbered lines. */
export function textTable(rows: BenchRow[]): string {
  const body = rows.map(cells);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((c) => c[i].length)));
  const line = (c: string[]): string => c.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd();
  const out = [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  ')];
  body.forEach((c) => out.push(line(c)));
  const notes = rows.map((r, i) => (r.note ? `  [${i + 1}] ${r.scenario} / ${r.metric}: ${r.note}` : '')).filter(Boolean);
  if (notes.length > 0) out.push('', 'notes:', ...notes);
  return out.join('\n');
}

/** Markdown table (for docs/benchmarks.md). */
export function markdownTable(rows: BenchRow[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [`| ${[...HEADER, 'note'].join(' | ')} |`, `|${[...HEADER, 'note'].map(() => '---').join('|')}|`];
  for (const r of rows) out.push(`| ${[...cells(r), r.note ?? ''].map(esc).join(' | ')} |`);
  return out.join('\n');
}
