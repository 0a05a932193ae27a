// Piscina worker: a task is "drain shard s". Shard memories arrive once, in workerData,
// and the kernel instance for each is created on first use and kept for the worker's life.
import { workerData } from 'piscina';
import { instantiateKernel } from '../kernel/kernel.js';
import { ShardDrainer, type DrainResult, type KernelApi } from './shard-drainer.js';

export interface WorkerData {
  memories: WebAssembly.Memory[];
}

const drainers: Array<ShardDrainer | undefined> = [];

export default function drainShard(shard: number): DrainResult {
  let d = drainers[shard];
  if (d === undefined) {
    const memory = (workerData as WorkerData).memories[shard];
    d = new ShardDrainer(memory, instantiateKernel(memory) as unknown as KernelApi);
    drainers[shard] = d;
  }
  return d.drain();
}
