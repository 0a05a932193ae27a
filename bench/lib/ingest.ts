// One ingest measurement: the simulator in its own process drives a server while the
// bench polls the server's applied-events counter and samples CPU of both processes.
import path from 'node:path';
import { DIST, runNode } from './child.js';
import { cpuSplit, sampleCpu, type CpuSample, type CpuSplit } from './proc-stat.js';
import { pollCounter, sustainedRate } from './prom.js';
import type { SimulateReport } from '../../src/simulate/fleet.js';

export interface IngestMeasurement {
  /** Sustained events/s by the server's own counter. */
  rate: number;
  sim: SimulateReport | null;
  simError?: string;
  serverCpu: CpuSplit | null;
  simCpu: CpuSplit | null;
}

export interface IngestRun {
  metricsUrl: string;
  /** Counter to read; its value times `scale` is events. */
  counter: string;
  scale: number;
  serverPid: number;
  simArgs: string[];
  warmupMs: number;
}

export async function measureIngest(run: IngestRun): Promise<IngestMeasurement> {
  const serverCpu: CpuSample[] = [];
  // null where the simulator had no sample (not spawned yet, or exited): never another process's.
  const simCpu: Array<CpuSample | null> = [];
  let simPid = 0;
  const poll = pollCounter(run.metricsUrl, run.counter, 250, () => {
    serverCpu.push(sampleCpu(run.serverPid)!);
    simCpu.push(simPid ? sampleCpu(simPid) : null);
  });
  const out = await runNode([path.join(DIST, 'bench/lib/simulate-main.js'), ...run.simArgs, '--json'], {
    timeoutMs: 300_000,
    onSpawn: (pid) => (simPid = pid),
  });
  await new Promise((r) => setTimeout(r, 300));
  const samples = await poll.stop();
  let sim: SimulateReport | null = null;
  let simError: string | undefined;
  try {
    sim = JSON.parse(out.stdout.trim().split('\n').pop() ?? '') as SimulateReport;
  } catch {
    simError = `simulator exited ${out.code}: ${out.stderr.slice(-300)}`;
  }
  const scaled = samples.map((s) => ({ at: s.at, value: s.value * run.scale }));
  const { rate, from, to } = sustainedRate(scaled, run.warmupMs);
  const ia = samples.findIndex((s) => s.at === from);
  const ib = samples.findIndex((s) => s.at === to);
  const pick = (arr: Array<CpuSample | null>, pid: number): CpuSplit | null => {
    const a = ia >= 0 ? arr[ia] : null;
    // The simulator may have exited before the window's end: its last sample inside it will do.
    let b: CpuSample | null = null;
    for (let i = ib; i > ia && b === null; i--) b = arr[i] ?? null;
    return a && b ? cpuSplit(pid, a, b) : null;
  };
  return { rate, sim, simError, serverCpu: pick(serverCpu, run.serverPid), simCpu: simPid ? pick(simCpu, simPid) : null };
}

/** "main 0.95, workers 0.80 | simulator 0.40" from CPU splits (cores). */
export function describeCpu(m: IngestMeasurement, serverName: string): string {
  const f = (x: number): string => x.toFixed(2);
  const s = m.serverCpu;
  const parts: string[] = [];
  if (s) {
    const top = Object.entries(s.byName)
      .filter(([name]) => name !== 'main')
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([name, v]) => `${name} ${f(v)}`)
      .join(', ');
    parts.push(`${serverName} ${f(s.total)} cores (main thread ${f(s.main)}; other threads ${f(s.others)}: ${top})`);
  }
  if (m.simCpu) parts.push(`simulator ${f(m.simCpu.total)} cores`);
  return parts.join(' | ');
}

/** Gives the simulator's devices the attributes the bench rules match on. */
export async function putThermostats(apiUrl: string, prefix: string, n: number): Promise<number> {
  let ok = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(32, n) }, async () => {
      while (next < n) {
        const i = next++;
        try {
          const res = await fetch(`${apiUrl}/v1/devices/${prefix}${i}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ attrs: { type: 'thermostat', setpoint: 70 } }),
          });
          if (res.ok) ok++;
          await res.arrayBuffer();
        } catch {
          // counted as not ok
        }
      }
    }),
  );
  return ok;
}
