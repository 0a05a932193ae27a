// Reads counters from a Prometheus text endpoint and turns polled samples into a
// sustained rate (ignoring ramp-up and the tail after the load stops).

/** Sum of every series of `name` (all label sets) in Prometheus text. */
export function sumMetric(text: string, name: string): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) {
      sum += value;
      found = true;
    }
  }
  return found ? sum : NaN;
}

export async function scrape(url: string, name: string): Promise<number> {
  try {
    const res = await fetch(url);
    return sumMetric(await res.text(), name);
  } catch {
    return NaN;
  }
}

export interface CounterSample {
  at: number;
  value: number;
}

/** Polls `name` at `url` every `intervalMs` until stopped; `onSample` sees each sample. */
export function pollCounter(
  url: string,
  name: string,
  intervalMs: number,
  onSample?: (s: CounterSample) => void,
): { samples: CounterSample[]; stop(): Promise<CounterSample[]> } {
  const samples: CounterSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = performance.now();
      const value = await scrape(url, name);
      if (Number.isFinite(value)) {
        const s = { at, value };
        samples.push(s);
        onSample?.(s);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

/**
 * The sustained rate of a counter: from the first sample `warmupMs` after it started
 * rising to the last sample before it stopped rising.
 */
export function sustainedRate(samples: CounterSample[], warmupMs: number): { rate: number; from: number; to: number } {
  if (samples.length < 2) return { rate: 0, from: 0, to: 0 };
  const base = samples[0].value;
  const firstRise = samples.findIndex((s) => s.value > base);
  if (firstRise < 0) return { rate: 0, from: 0, to: 0 };
  const last = samples[samples.length - 1].value;
  let end = samples.findIndex((s) => s.value >= last);
  const riseAt = samples[Math.max(0, firstRise - 1)].at;
  let start = samples.findIndex((s) => s.at >= riseAt + warmupMs);
  if (start < 0 || start >= end) start = Math.max(0, firstRise - 1);
  if (end <= start) end = samples.length - 1;
  const a = samples[start];
  const b = samples[end];
  const dt = (b.at - a.at) / 1000;
  return { rate: dt > 0 ? (b.value - a.value) / dt : 0, from: a.at, to: b.at };
}
