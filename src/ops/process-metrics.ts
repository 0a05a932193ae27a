// Process figures an operator needs beside the engine's own: the main thread runs every
// socket, so its event-loop delay is the first sign of an overloaded ingress.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { ExpositionWriter } from './exposition.js';

export class ProcessMetrics {
  private readonly loop: IntervalHistogram;
  private readonly startSeconds = Date.now() / 1000 - process.uptime();

  constructor() {
    // The sampling timer is unref'd by Node: it never keeps the process alive.
    this.loop = monitorEventLoopDelay({ resolution: 10 });
    this.loop.enable();
  }

  render(w: ExpositionWriter): void {
    const cpu = process.cpuUsage();
    w.family('process_cpu_seconds_total', 'counter', 'User and system CPU time of the process.')
      .sample('process_cpu_seconds_total', (cpu.user + cpu.system) / 1e6);
    w.family('process_resident_memory_bytes', 'gauge', 'Resident set size.')
      .sample('process_resident_memory_bytes', process.memoryUsage.rss());
    w.family('process_start_time_seconds', 'gauge', 'Start time of the process, epoch seconds.')
      .sample('process_start_time_seconds', Math.round(this.startSeconds));
    const name = 'damper_event_loop_delay_seconds';
    w.family(name, 'summary', 'Main-thread event loop delay since the previous scrape.');
    const n = this.loop.count;
    for (const q of [0.5, 0.99] as const) {
      w.sample(name, n === 0 ? NaN : this.loop.percentile(q * 100) / 1e9, { quantile: String(q) });
    }
    w.family('damper_event_loop_delay_max_seconds', 'gauge', 'Longest main-thread event loop delay since the previous scrape.')
      .sample('damper_event_loop_delay_max_seconds', n === 0 ? NaN : this.loop.max / 1e9);
    // Per-scrape windows: a spike shows up once, then the figures recover.
    this.loop.reset();
  }

  close(): void {
    this.loop.disable();
  }
}
