/**
 * A token bucket with an injected clock: `ratePerSec` tokens a second, at
 * most `burst` saved up. Pure arithmetic on two number fields, so the
 * per-client maps hold millions of them cheaply and tests need no timers.
 *
 * A per-node rate is split between the node's data-plane processes by a
 * `share` factor (a node with N workers gives each 1/N of the rate and of
 * the burst, at least one token), so N workers together allow the rate the
 * operator wrote.
 */

/** Rate and burst of a bucket after applying a share. */
export interface BucketParams { ratePerSec: number; burst: number }

/** `cfg` scaled by `share` (0 < share <= 1); the burst defaults to one second's worth and is at least 1. */
export function bucketParams(cfg: { ratePerSec: number; burst?: number }, share = 1): BucketParams {
  const s = share > 0 && share <= 1 ? share : 1;
  const burst = cfg.burst ?? Math.max(1, Math.ceil(cfg.ratePerSec));
  return { ratePerSec: cfg.ratePerSec * s, burst: Math.max(1, Math.floor(burst * s)) };
}

/** One bucket. */
export class TokenBucket {
  tokens: number;
  lastMs: number;

  constructor(p: BucketParams, nowMs: number) {
    this.tokens = p.burst;
    this.lastMs = nowMs;
  }

  /** Takes one token: 0 when taken, else the ms until one is there. */
  take(p: BucketParams, nowMs: number): number {
    const elapsed = nowMs - this.lastMs;
    if (elapsed > 0) {
      this.tokens = Math.min(p.burst, this.tokens + (elapsed * p.ratePerSec) / 1000);
      this.lastMs = nowMs;
    }
    if (this.tokens >= 1) { this.tokens -= 1; return 0; }
    return Math.ceil(((1 - this.tokens) * 1000) / p.ratePerSec);
  }

  /** True when the bucket is full again at `nowMs` (it can be forgotten: a new one would be the same). */
  isFull(p: BucketParams, nowMs: number): boolean {
    return this.tokens + ((nowMs - this.lastMs) * p.ratePerSec) / 1000 >= p.burst;
  }
}
