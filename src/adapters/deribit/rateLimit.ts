/**
 * Token-bucket rate limiter for Deribit's credit system.
 *
 * Deribit (docs.deribit.com/articles/rate-limits): each non-matching-engine request costs 500
 * credits from a pool of at most 50,000 that refills at 10,000 credits/second, i.e. about
 * 20 requests/second sustained with a burst of 100. Defaults below encode that.
 * Times in milliseconds; the clock and sleep are injectable for tests.
 */
export interface TokenBucketOptions {
  /** Maximum credits in the pool (default 50,000). */
  readonly capacity?: number;
  /** Refill rate in credits per second (default 10,000). */
  readonly refillPerSecond?: number;
  /** Clock in epoch ms (default Date.now). */
  readonly now?: () => number;
  /** Sleep in ms (default setTimeout). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Credits one public Deribit REST/WS request costs. */
export const DERIBIT_REQUEST_CREDITS = 500;

export class DeribitTokenBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private credits: number;
  private last: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private queue: Promise<void> = Promise.resolve();
  /** Total milliseconds callers waited for credits (observability for tests and logs). */
  waitedMs = 0;

  constructor(options: TokenBucketOptions = {}) {
    this.capacity = options.capacity ?? 50_000;
    this.refillPerSecond = options.refillPerSecond ?? 10_000;
    if (!(this.capacity > 0) || !(this.refillPerSecond > 0)) {
      throw new RangeError(`capacity and refillPerSecond must be > 0`);
    }
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.credits = this.capacity;
    this.last = this.now();
  }

  private refill(): void {
    const t = this.now();
    this.credits = Math.min(this.capacity, this.credits + ((t - this.last) / 1000) * this.refillPerSecond);
    this.last = t;
  }

  /** Credits available now. */
  available(): number {
    this.refill();
    return this.credits;
  }

  /** Waits (FIFO) until `cost` credits are available, then takes them. */
  acquire(cost = DERIBIT_REQUEST_CREDITS): Promise<void> {
    const c = Math.min(cost, this.capacity);
    const next = this.queue.then(async () => {
      this.refill();
      while (this.credits < c) {
        const ms = Math.ceil(((c - this.credits) / this.refillPerSecond) * 1000);
        this.waitedMs += ms;
        await this.sleep(ms);
        this.refill();
      }
      this.credits -= c;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}
