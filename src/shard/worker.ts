// Piscina worker: a task is "drain shard s". Shard memories arrive once, in workerData,
// and the kernel instance for each is created on first use and kept for the worker's life.
import { workerData } from 'piscina';
import { H_RING_READ, H_RING_WRITE, HEADER_BASE } from '../../assembly/layout.js';
import { instantiateKernel } from '../kernel/kernel.js';
import { ShardDrainer, type DrainResult, type KernelApi } from './shard-drainer.js';

export interface WorkerData {
  memories: WebAssembly.Memory[];
}

const drainers: Array<ShardDrainer | undefined> = [];
let rings: Int32Array[] | null = null;

/** Whether a shard other than `self` has unread ring records (a drain of it is queued or due). */
function othersBusy(self: number): boolean {
  rings ??= (workerData as WorkerData).memories.map((m) => new Int32Array(m.buffer as unknown as SharedArrayBuffer, HEADER_BASE, 64));
  for (let s = 0; s < rings.length; s++) {
    if (s !== self && Atomics.load(rings[s], H_RING_WRITE >> 2) !== Atomics.load(rings[s], H_RING_READ >> 2)) return true;
  }
  return false;
}

export default function drainShard(shard: number): DrainResult {
  let d = drainers[shard];
  if (d === undefined) {
    const memory = (workerData as WorkerData).memories[shard];
    d = new ShardDrainer(memory, instantiateKernel(memory) as unknown as KernelApi, () => othersBusy(shard));
    drainers[shard] = d;
  }
  return d.drain();
}
