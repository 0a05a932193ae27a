// `npm run bench [-- --quick] [--only a,b] [--out DIR] [--docs]`: runs every scenario in
// its own child process (so one scenario's heap, JIT state and sockets cannot skew the
// next), prints one table and writes bench/results/<timestamp>.json. `--docs` also
// replaces the table in docs/benchmarks.md.
import { mkdirSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { SCENARIOS } from './scenarios/index.js';
import { failedRow, type ScenarioContext } from './scenarios/types.js';
import { describeMachine, markdownTable, textTable, type Machine } from './lib/table.js';
import type { BenchRow } from './lib/row.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface BenchResults {
  version: 1;
  timestamp: string;
  quick: boolean;
  machine: Machine;
  durationS: number;
  scenarios: string[];
  rows: BenchRow[];
}

interface RunArgs {
  quick: boolean;
  only: string[] | null;
  out: string;
  docs: boolean;
  child: string | null;
  ctxFile: string | null;
  rowsFile: string | null;
}

function parseArgs(argv: string[]): RunArgs {
  const a: RunArgs = { quick: false, only: null, out: path.join(ROOT, 'bench/results'), docs: false, child: null, ctxFile: null, rowsFile: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') a.quick = true;
    else if (arg === '--docs') a.docs = true;
    else if (arg === '--only') a.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg === '--out') a.out = path.resolve(argv[++i] ?? a.out);
    else if (arg === '--child') a.child = argv[++i] ?? null;
    else if (arg === '--ctx') a.ctxFile = argv[++i] ?? null;
    else if (arg === '--rows') a.rowsFile = argv[++i] ?? null;
    else throw new Error(`unknown option ${arg} (use --quick, --only a,b, --out DIR, --docs)`);
  }
  return a;
}

/** Child mode: run one scenario, write its rows to a file. */
async function runChild(args: RunArgs): Promise<void> {
  const scenario = SCENARIOS.find((s) => s.name === args.child);
  const ctx = JSON.parse(readFileSync(args.ctxFile!, 'utf8')) as ScenarioContext;
  const rows: BenchRow[] = [];
  try {
    if (!scenario) throw new Error(`unknown scenario ${args.child}`);
    await scenario.run(ctx, rows);
  } catch (err) {
    rows.push(failedRow(args.child ?? '?', err));
  }
  writeFileSync(args.rowsFile!, JSON.stringify(rows));
  process.exit(0); // servers' and sockets' handles must not keep a finished scenario alive
}

/** The scenario process group running now: Ctrl-C must not leave it (and its servers) behind. */
let currentGroup = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (currentGroup) {
      try {
        process.kill(-currentGroup, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });
}

function runScenario(name: string, ctx: ScenarioContext, timeoutS: number): Promise<BenchRow[]> {
  const dir = path.join(tmpdir(), `damper-bench-${process.pid}-${name}`);
  mkdirSync(dir, { recursive: true });
  const ctxFile = path.join(dir, 'ctx.json');
  const rowsFile = path.join(dir, 'rows.json');
  writeFileSync(ctxFile, JSON.stringify(ctx));
  return new Promise((resolve) => {
    // Raise the soft fd limit to the hard one first: the connections scenario holds
    // tens of thousands of client sockets in this process.
    const child = spawn(
      'sh',
      ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, fileURLToPath(import.meta.url),
        '--child', name, '--ctx', ctxFile, '--rows', rowsFile],
      // Its own process group, so a timeout also kills the servers it started.
      { cwd: ROOT, stdio: ['ignore', 'inherit', 'pipe'], detached: true },
    );
    currentGroup = child.pid ?? 0;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutS * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      currentGroup = 0;
      let rows: BenchRow[];
      if (existsSync(rowsFile)) rows = JSON.parse(readFileSync(rowsFile, 'utf8')) as BenchRow[];
      else rows = [failedRow(name, signal === 'SIGKILL' ? `timed out after ${timeoutS} s` : `exit ${code}: ${stderr.slice(-300)}`)];
      rmSync(dir, { recursive: true, force: true });
      resolve(rows);
    });
  });
}

const DOC_START = '<!-- bench:table:start -->';
const DOC_END = '<!-- bench:table:end -->';

function writeDocs(results: BenchResults, jsonPath: string): void {
  const file = path.join(ROOT, 'docs/benchmarks.md');
  const m = results.machine;
  const block = [
    DOC_START,
    `Latest run: ${results.timestamp}${results.quick ? ' (--quick)' : ''}, ${results.durationS.toFixed(0)} s, ` +
      `\`${path.relative(ROOT, jsonPath)}\`. Machine: ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, ${m.os}, ` +
      `Node ${m.node}, load average at start ${m.loadAvgAtStart.join(' / ')}.`,
    '',
    markdownTable(results.rows),
    DOC_END,
  ].join('\n');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n${DOC_START}\n${DOC_END}\n`;
  const a = text.indexOf(DOC_START);
  const b = text.indexOf(DOC_END);
  const next = a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + DOC_END.length) : `${text}\n${block}\n`;
  writeFileSync(file, next);
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.child) {
    await runChild(args);
    return 0;
  }
  const started = performance.now();
  const machine = describeMachine();
  const scenarios = SCENARIOS.filter((s) => (args.only ? args.only.includes(s.name) : !s.optIn));
  const rows: BenchRow[] = [];
  for (const s of scenarios) {
    process.stderr.write(`bench: ${s.name}…\n`);
    const t = performance.now();
    const got = await runScenario(s.name, { quick: args.quick, rows }, args.quick ? Math.ceil(s.timeoutS / 2) : s.timeoutS);
    rows.push(...got);
    process.stderr.write(`bench: ${s.name} done in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  }
  const timestamp = new Date().toISOString();
  const results: BenchResults = {
    version: 1, timestamp, quick: args.quick, machine, durationS: (performance.now() - started) / 1000,
    scenarios: scenarios.map((s) => s.name), rows,
  };
  mkdirSync(args.out, { recursive: true });
  const jsonPath = path.join(args.out, `${timestamp.replace(/[:.]/g, '-')}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${textTable(rows)}\n\nresults: ${jsonPath}\n`);
  if (args.docs) writeDocs(results, jsonPath);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
