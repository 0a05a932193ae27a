// The bench runner's plumbing on its tiny `smoke` scenario: a child process per scenario,
// a bare server and a simulator process, one printed table and a results JSON file with
// the documented keys. No timing assertions: only that the counts add up.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';

it('npm run bench -- --quick --only smoke writes a results file and prints the table', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'damper-bench-test-'));
  try {
    const run = spawnSync(process.execPath, ['dist/bench/run.js', '--quick', '--only', 'smoke', '--out', out], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/scenario\s+metric\s+value\s+baseline \(same run\)\s+ratio\s+target/);
    const files = readdirSync(out).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const results = JSON.parse(readFileSync(path.join(out, files[0]), 'utf8'));
    expect(results).toMatchObject({ version: 1, quick: true, scenarios: ['smoke'] });
    expect(typeof results.timestamp).toBe('string');
    expect(results.machine.cpus).toBeGreaterThan(0);
    expect(results.rows).toHaveLength(1);
    const row = results.rows[0];
    expect(Object.keys(row)).toEqual(expect.arrayContaining(['scenario', 'metric', 'value', 'unit', 'baseline', 'baselineValue', 'ratio']));
    expect(row.baselineValue).toBeGreaterThan(0);
    expect(row.value).toBe(row.baselineValue); // every event the simulator sent reached the bare endpoint
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 70_000);

it('kernel-ab runs two builds on bench:kernel\'s workload and prints the geometric mean of B/A', () => {
  const run = spawnSync(process.execPath, ['dist/bench/kernel-ab.js', 'build/damper.wasm', '.', '--devices', '1000', '--runs', '2'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.status).toBe(0);
  expect(run.stdout.match(/^run +\d+ \((A|B) first\): A [\d.]+ ns\/ev {2}B [\d.]+ ns\/ev {2}B\/A [\d.]+$/gm)).toHaveLength(2);
  expect(run.stdout).toMatch(/^run +1 \(A first\)/m);
  expect(run.stdout).toMatch(/^run +2 \(B first\)/m);
  expect(run.stdout).toMatch(/^B\/A, geometric mean over 2 runs: \d+\.\d{3}$/m);
  const usage = spawnSync(process.execPath, ['dist/bench/kernel-ab.js', 'build/damper.wasm'], { encoding: 'utf8' });
  expect(usage.status).toBe(2);
  expect(usage.stderr).toMatch(/^usage: node dist\/bench\/kernel-ab\.js/);
}, 70_000);
