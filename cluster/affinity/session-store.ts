/**
 * Session affinity shared through Redis: `session:{pool}:{key}` holds the
 * backend id a session was last sent to, with a TTL. `lookup` runs once per
 * new sticky connection before the upgrade and never waits longer than
 * `lookupTimeoutMs`: when Redis is slow or unreachable it answers from this
 * node's own bounded cache, and after that the sticky balancer falls back
 * to rendezvous hashing (the same answer on every node). `record` is
 * fire-and-forget and refreshes the TTL. Sessions with an open connection
 * on this node (record without release) are refreshed in Redis every third
 * of the TTL, so they never expire while active; this needs the data plane
 * to call `release` when a connection closes.
 */
import type Redis from 'ioredis';
import type { AffinityStore } from '../../shared/cluster-view';
import type { RedisKeys } from '../../shared/redis/keys';
import type { Logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import { LocalSessionCache } from './local-cache';

/** Options of the store (from `cluster.affinity`). */
export interface SessionStoreOptions {
  redis: Redis;
  keys: RedisKeys;
  ttlMs: number;
  lookupTimeoutMs: number;
  log: Logger;
  metrics?: Metrics;
  /** Most sessions kept in the local cache. @default 100000 */
  maxLocal?: number;
}

/** A mapping already written within TTL / this is not written again on record(). */
const REWRITE_FRACTION = 10;
/** Keys refreshed per pipeline, so a refresh round never builds one huge command. */
const REFRESH_BATCH = 1000;

/** Redis-backed AffinityStore with a local fallback. */
export class SessionStore implements AffinityStore {
  readonly #o: SessionStoreOptions;
  readonly #cache: LocalSessionCache;
  #timer: NodeJS.Timeout | null = null;
  #failing = false;
  /** Set once the data plane calls release(): only then are open counts trustworthy enough to refresh by. */
  #releaseSeen = false;
  /** Lookups answered from Redis, from the local cache after a timeout or error, and moves recorded. */
  readonly stats = { redisHits: 0, fallbacks: 0, moves: 0 };

  constructor(o: SessionStoreOptions) {
    this.#o = o;
    this.#cache = new LocalSessionCache(o.maxLocal ?? 100_000);
  }

  async lookup(pool: string, sessionKey: string): Promise<string | null> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), this.#o.lookupTimeoutMs); });
    try {
      const got = await Promise.race([this.#o.redis.get(this.#o.keys.session(pool, sessionKey)), timeout]);
      if (got === 'timeout') return this.#fallback(pool, sessionKey, new Error(`no answer within ${this.#o.lookupTimeoutMs} ms`));
      this.#ok();
      this.stats.redisHits++;
      this.#o.metrics?.redisRoundTripSeconds.observe({ purpose: 'affinity' }, (performance.now() - started) / 1000);
      // Redis lost it (expired, flushed, failover): the next record() must write again.
      if (got === null) this.#cache.markWritten(pool, sessionKey, this.#cache.get(pool, sessionKey) ?? '', -Infinity);
      return got ?? this.#cache.get(pool, sessionKey);
    } catch (err) {
      return this.#fallback(pool, sessionKey, err);
    } finally {
      clearTimeout(timer);
    }
  }

  record(pool: string, sessionKey: string, backendId: string, movedFrom?: string): void {
    this.#cache.open(pool, sessionKey, backendId);
    const now = performance.now();
    // A session reconnecting (or sending HTTP requests) often: one write per
    // REWRITE_FRACTION of the TTL is enough to keep it alive in Redis.
    const skip = movedFrom === undefined && this.#cache.writtenRecently(pool, sessionKey, now, this.#o.ttlMs / REWRITE_FRACTION);
    if (movedFrom !== undefined && movedFrom !== backendId) {
      this.stats.moves++;
      this.#o.metrics?.sessionsTotal.inc({ pool });
      this.#o.log.info({ pool, session: sessionKey, from: movedFrom, to: backendId }, 'sticky session moved');
    }
    if (skip) return;
    this.#o.redis.set(this.#o.keys.session(pool, sessionKey), backendId, 'PX', this.#o.ttlMs)
      .then(() => { this.#cache.markWritten(pool, sessionKey, backendId, now); this.#ok(); }, (err) => this.#error(err));
  }

  /** The session's connection on this node closed: it is no longer refreshed from here. */
  release(pool: string, sessionKey: string): void {
    this.#releaseSeen = true;
    this.#cache.close(pool, sessionKey);
  }

  /** Starts refreshing the TTL of sessions open on this node. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => { void this.refreshActive(); }, Math.max(1000, Math.floor(this.#o.ttlMs / 3)));
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Re-extends the TTL of every session with an open connection here; returns how many. Never throws. */
  async refreshActive(): Promise<number> {
    let n = 0;
    // Without release() calls every recorded session would look open forever.
    if (!this.#releaseSeen) return n;
    let p = this.#o.redis.pipeline();
    try {
      for (const s of this.#cache.active()) {
        p.set(this.#o.keys.session(s.pool, s.key), s.backendId, 'PX', this.#o.ttlMs);
        if (++n % REFRESH_BATCH === 0) { await p.exec(); p = this.#o.redis.pipeline(); }
      }
      if (n % REFRESH_BATCH !== 0) await p.exec();
      this.#ok();
    } catch (err) { this.#error(err); }
    return n;
  }

  #fallback(pool: string, sessionKey: string, err: unknown): string | null {
    this.stats.fallbacks++;
    this.#error(err);
    return this.#cache.get(pool, sessionKey);
  }

  #ok(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#o.log.info('session affinity reaches redis again');
  }

  #error(err: unknown): void {
    this.#o.metrics?.redisErrorsTotal.inc({ purpose: 'affinity' });
    if (this.#failing) return;
    this.#failing = true;
    this.#o.log.warn({ err: (err as Error)?.message }, 'session affinity cannot reach redis; using local sessions and hashing');
  }
}
