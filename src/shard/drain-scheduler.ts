// Runs "drain shard s" tasks on the Piscina pool: at most one task per shard in flight
// (that is what keeps per-device order and lets the kernel run without locks), and a new
// task as soon as a finished one leaves records behind.
import type { Piscina } from 'piscina';
import type { DrainResult } from './shard-drainer.js';
import type { ShardSet } from './shard-set.js';
import type { TaskStatus } from './task-status.js';

export class DrainScheduler {
  private readonly inFlight: boolean[];
  /** Tasks started and tasks whose results were taken, per shard (a task's ticket is its start count). */
  private readonly started: number[];
  private readonly taken: number[];
  /** Shared completion counters the worker bumps; null: results come only through Piscina. */
  private readonly status: TaskStatus | null;
  private busyMs = 0;
  private running = 0;
  private idleWaiters: Array<() => void> = [];
  private failure: ((shard: number, err: unknown) => void) | null = null;
  private readonly waiting: Array<Array<() => void>>;

  constructor(
    private readonly pool: Piscina,
    private readonly shards: ShardSet,
    private readonly onResult: (shard: number, result: DrainResult) => void,
    status: TaskStatus | null = null,
  ) {
    this.status = status;
    this.inFlight = shards.memories.map(() => false);
    this.started = shards.memories.map(() => 0);
    this.taken = shards.memories.map(() => 0);
    this.waiting = shards.memories.map(() => []);
  }

  onFailure(cb: (shard: number, err: unknown) => void): void {
    this.failure = cb;
  }

  /** Makes sure the shard gets drained soon (cheap to call per frame). */
  kick(shard: number): void {
    if (this.inFlight[shard]) return; // finish() looks at the ring again
    this.inFlight[shard] = true;
    this.running++;
    const ticket = ++this.started[shard];
    this.pool.run(shard).then(
      (result: DrainResult) => {
        if (this.taken[shard] < ticket) this.finish(shard, result, null);
      },
      (err: unknown) => {
        if (this.taken[shard] < ticket) this.finish(shard, null, err);
      },
    );
  }

  /**
   * Takes the results of tasks that finished but whose Piscina reply has not been handled
   * yet, and starts the next drain at once. Cheap (an atomic load per shard in flight): the
   * ingress calls it per frame, so under load the worker gets its next task without waiting
   * for the main thread's event loop to come round.
   */
  poll(): void {
    const status = this.status;
    if (status === null || this.running === 0) return;
    for (let s = 0; s < this.inFlight.length; s++) {
      if (!this.inFlight[s] || status.done(s) < this.started[s] || !status.readable(s)) continue;
      this.finish(s, status.result(s), null);
    }
  }

  kickAll(): void {
    for (let s = 0; s < this.inFlight.length; s++) this.kick(s);
  }

  /**
   * Runs `fn` on the main thread while no task drains the shard (e.g. reading feature
   * values through a main-thread kernel instance), so it sees a consistent shard.
   */
  exclusive<T>(shard: number, fn: () => T): Promise<T> {
    if (!this.inFlight[shard]) {
      try {
        return Promise.resolve(fn());
      } catch (e) {
        return Promise.reject(e);
      }
    }
    this.status?.requestYield(shard, true);
    return new Promise<T>((resolve, reject) => {
      this.waiting[shard].push(() => {
        try {
          resolve(fn());
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  workerBusySeconds(): number {
    return this.busyMs / 1000;
  }

  /** Resolves when no task runs and every ring and control queue is empty. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    for (let s = 0; s < this.inFlight.length; s++) this.status?.requestYield(s, true);
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    if (this.running > 0) return false;
    for (let s = 0; s < this.inFlight.length; s++) if (this.shards.hasWork(s)) return false;
    return true;
  }

  private finish(shard: number, result: DrainResult | null, err: unknown): void {
    this.taken[shard] = this.started[shard];
    this.inFlight[shard] = false;
    if (this.idleWaiters.length === 0) this.status?.requestYield(shard, false);
    this.running--;
    if (result !== null) {
      this.busyMs += result.busyMs;
      try {
        this.onResult(shard, result);
      } catch (e) {
        this.failure?.(shard, e);
      }
    } else {
      this.failure?.(shard, err);
    }
    const waiting = this.waiting[shard];
    if (waiting.length > 0) {
      this.waiting[shard] = [];
      for (const w of waiting) w();
    }
    this.shards.flushControl(shard);
    if (this.shards.hasWork(shard)) {
      // A failing task must not spin: retry after a pause instead of at once.
      if (err != null) setTimeout(() => this.kick(shard), 100).unref();
      else this.kick(shard);
    }
    if (this.idleWaiters.length > 0 && this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
