// CPU and memory of a process from /proc, so the bench can split CPU between engine
// threads and the simulator without instrumenting either.
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
export const CLK_TCK = 100;

function parseStat(text: string): { comm: string; ticks: number } {
  // comm is parenthesised and may contain spaces: fields resume after the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return { comm, ticks: Number(fields[11]) + Number(fields[12]) };
}

export interface CpuSample {
  at: number;
  /** CPU seconds of the whole process (all threads). */
  total: number;
  /** CPU seconds per thread id, with the thread's name. */
  threads: Map<number, { comm: string; seconds: number }>;
}

export function sampleCpu(pid: number): CpuSample | null {
  try {
    const total = parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1')).ticks / CLK_TCK;
    const threads = new Map<number, { comm: string; seconds: number }>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const s = parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1'));
        threads.set(Number(tid), { comm: s.comm, seconds: s.ticks / CLK_TCK });
      } catch {
        // the thread exited between readdir and read
      }
    }
    return { at: performance.now(), total, threads };
  } catch {
    return null;
  }
}

export interface CpuSplit {
  /** Cores used on average over the interval (1.0 = one core busy). */
  total: number;
  /** The main (event loop) thread. */
  main: number;
  /** Every other thread (worker threads, libuv pool, V8 helpers). */
  others: number;
  /** Threads grouped by name, for the note. */
  byName: Record<string, number>;
}

export function cpuSplit(pid: number, a: CpuSample, b: CpuSample): CpuSplit {
  const dt = (b.at - a.at) / 1000;
  const byName: Record<string, number> = {};
  let main = 0;
  let others = 0;
  for (const [tid, t] of b.threads) {
    const used = (t.seconds - (a.threads.get(tid)?.seconds ?? 0)) / dt;
    if (tid === pid) main += used;
    else others += used;
    const name = tid === pid ? 'main' : t.comm;
    byName[name] = (byName[name] ?? 0) + used;
  }
  return { total: (b.total - a.total) / dt, main, others, byName };
}

/** Resident set size in bytes, or NaN when the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}
