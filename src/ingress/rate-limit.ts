// Token bucket of `limits.maxFramesPerSecond` per connection: a client that sends faster
// gets `rate_limited` for the excess frames (nothing of them is applied). Burst: one second.
export class FrameRateLimit {
  private tokens: number;
  private last: number;

  constructor(private readonly perSecond: number, now: number = Date.now()) {
    this.tokens = perSecond;
    this.last = now;
  }

  /** Takes one frame's token; false when the connection is over its rate. */
  take(now: number): boolean {
    if (this.perSecond <= 0) return true;
    const refill = ((now - this.last) * this.perSecond) / 1000;
    if (refill > 0) {
      this.tokens = Math.min(this.perSecond, this.tokens + refill);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Buckets keyed by a string (HTTP: device id or client address), bounded in number. */
export class KeyedRateLimit {
  private readonly buckets = new Map<string, FrameRateLimit>();

  constructor(private readonly perSecond: number, private readonly maxKeys = 100_000) {}

  take(key: string, now: number): boolean {
    if (this.perSecond <= 0) return true;
    let b = this.buckets.get(key);
    if (b === undefined) {
      // Forgetting every bucket when full only ever errs towards letting clients through.
      if (this.buckets.size >= this.maxKeys) this.buckets.clear();
      b = new FrameRateLimit(this.perSecond, now);
      this.buckets.set(key, b);
    }
    return b.take(now);
  }
}
