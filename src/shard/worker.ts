// Piscina worker: a task is "drain shard s". Shard memories arrive once, in workerData,
// and the kernel instance for each is created on first use and kept for the worker's life.
import { workerData } from 'piscina';
import { H_RING_READ, H_RING_WRITE, HEADER_BASE } from '../../assembly/layout.js';
import { instantiateKernel } from '../kernel/kernel.js';
import { TaskStatus } from './task-status.js';
import { ShardDrainer, type DrainResult, type KernelApi } from './shard-drainer.js';

export interface WorkerData {
  memories: WebAssembly.Memory[];
  /** TaskStatus buffer (src/shard/task-status.ts); optional for callers that only use replies. */
  status?: SharedArrayBuffer;
}

const drainers: Array<ShardDrainer | undefined> = [];
const statusBuffer = (workerData as WorkerData).status;
const status = statusBuffer === undefined ? null : new TaskStatus(statusBuffer);
let rings: Int32Array[] | null = null;

/**
 * Whether the drain of `self` should not wait for refills: another shard has unread ring
 * records (a drain of it is queued or due), or the main thread waits for this task.
 */
function othersBusy(self: number): boolean {
  if (status !== null && status.yieldRequested(self)) return true;
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
    d = new ShardDrainer(memory, instantiateKernel(memory) as unknown as KernelApi, () => othersBusy(shard), () => status !== null && status.yieldRequested(shard));
    drainers[shard] = d;
  }
  const result = d.drain();
  status?.publish(shard, result);
  return result;
}
