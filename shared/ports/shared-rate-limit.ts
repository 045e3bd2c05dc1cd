/**
 * The port through which the data plane takes tokens from cluster-wide
 * rate buckets (routes[].rateLimit.cluster). cluster/ratelimit implements
 * it on Redis; a worker process would reach it over IPC. The data plane
 * races every call against a short timeout and decides locally when it is
 * slow or fails, so an implementation may simply reject when Redis is down.
 */

/** Cluster-wide token buckets. */
export interface SharedRateLimit {
  /** Takes one token from bucket `key` (created full); resolves 0 when taken, else the ms until a token is there. */
  take(key: string, ratePerSec: number, burst: number): Promise<number>;
}
