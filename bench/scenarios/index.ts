// Scenarios in run order: later ones take in-run figures from earlier ones (latency runs at
// half the ws-ingest maximum; the peer ratio divides by the ws-ingest figure).
import type { Scenario } from './types.js';
import { moduleBench } from './module-bench.js';

export const SCENARIOS: Scenario[] = [
  { name: 'kernel', timeoutS: 120, run: moduleBench('../kernel.js', 'runKernelBench', 'kernel') },
  { name: 'rules', timeoutS: 120, run: moduleBench('../rules.js', 'runRulesBench', 'rules') },
  { name: 'actions', timeoutS: 120, run: moduleBench('../actions.js', 'runActionsBench', 'actions') },
  { name: 'ws-ingest', timeoutS: 150, run: async (ctx, out) => (await import('./ws-ingest.js')).run(ctx, out) },
  { name: 'http-ingest', timeoutS: 120, run: async (ctx, out) => (await import('./http-ingest.js')).run(ctx, out) },
  { name: 'latency', timeoutS: 90, run: async (ctx, out) => (await import('./latency.js')).run(ctx, out) },
  { name: 'peer', timeoutS: 90, run: async (ctx, out) => (await import('./peer.js')).run(ctx, out) },
  { name: 'smoke', optIn: true, timeoutS: 60, run: async (ctx, out) => (await import('./smoke.js')).run(ctx, out) },
  { name: 'connections', timeoutS: 120, run: async (ctx, out) => (await import('./connections.js')).run(ctx, out) },
];
