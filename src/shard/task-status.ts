// A finished drain task's summary in shared memory, so the main thread can take the result
// as soon as it next looks (it polls while handling ingress) instead of only when Piscina's
// reply message reaches its event loop: under load one loop turn lasts long, and the worker
// would wait for its next task meanwhile. Per shard: an Int32 completion counter (bumped
// last, with Atomics) and the DrainResult's numbers; a task that spilled outbox chunks
// leaves them in its Piscina reply, so the main thread waits for that one.
import type { DrainResult } from './shard-drainer.js';

const I_DONE = 0;
const I_SPILLED = 1;
/** Set by the main thread when it waits for the shard's running task (exclusive access, drain). */
const I_YIELD = 2;
const F_RECORDS = 1;
const F_BUSY = 2;
const F_EVENTS = 3;
const F_FIRST = 4;
const SLOT_BYTES = 64;

export class TaskStatus {
  readonly buffer: SharedArrayBuffer;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;

  constructor(shardsOrBuffer: number | SharedArrayBuffer) {
    this.buffer = typeof shardsOrBuffer === 'number' ? new SharedArrayBuffer(shardsOrBuffer * SLOT_BYTES) : shardsOrBuffer;
    this.i32 = new Int32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
  }

  /** Worker: publishes a finished task of `shard` (the counter last). */
  publish(shard: number, r: DrainResult): void {
    const f = shard * (SLOT_BYTES >> 3);
    const i = shard * (SLOT_BYTES >> 2);
    this.f64[f + F_RECORDS] = r.records;
    this.f64[f + F_BUSY] = r.busyMs;
    this.f64[f + F_EVENTS] = r.eventsIn;
    this.f64[f + F_FIRST] = r.firstReceived;
    this.i32[i + I_SPILLED] = r.chunks.length > 0 ? 1 : 0;
    Atomics.add(this.i32, i + I_DONE, 1);
  }

  /** Main thread: asks the task draining `shard` to end soon (cleared when its result is taken). */
  requestYield(shard: number, on: boolean): void {
    Atomics.store(this.i32, shard * (SLOT_BYTES >> 2) + I_YIELD, on ? 1 : 0);
  }

  /** Worker: whether the main thread waits for this shard's task. */
  yieldRequested(shard: number): boolean {
    return Atomics.load(this.i32, shard * (SLOT_BYTES >> 2) + I_YIELD) !== 0;
  }

  /** Tasks of `shard` finished so far. */
  done(shard: number): number {
    return Atomics.load(this.i32, shard * (SLOT_BYTES >> 2) + I_DONE);
  }

  /** Whether the last finished task's result can be read here (it spilled no chunks). */
  readable(shard: number): boolean {
    return this.i32[shard * (SLOT_BYTES >> 2) + I_SPILLED] === 0;
  }

  /** The last finished task's result (chunks empty; only valid when readable()). */
  result(shard: number): DrainResult {
    const f = shard * (SLOT_BYTES >> 3);
    return { chunks: [], records: this.f64[f + F_RECORDS], busyMs: this.f64[f + F_BUSY], eventsIn: this.f64[f + F_EVENTS], firstReceived: this.f64[f + F_FIRST] };
  }
}
