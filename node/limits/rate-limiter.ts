/**
 * The rate limits of one route: new WebSocket connections (`upgrades`) and
 * plain HTTP requests (`requests`), each per client address and for the
 * whole route, as token buckets (429 with Retry-After when empty). Client
 * buckets live in a map bounded by DEFAULTS.edge.rateLimitClients, least
 * recently used forgotten first (a forgotten client starts with a full
 * bucket, which only errs towards letting it in).
 *
 * With `cluster: true` the buckets are kept in Redis for the whole cluster
 * (SharedRateLimit, cluster/ratelimit); an answer slower than
 * cluster.redis.rateLimitTimeoutMs, or an error, falls back to this node's
 * own buckets for that request.
 */
import type { RateLimitConfig } from '../../shared/config/edge-schema';
import type { SharedRateLimit } from '../../shared/ports/shared-rate-limit';
import { DEFAULTS } from '../../shared/config/defaults';
import { TokenBucket, bucketParams, type BucketParams } from './token-bucket';

/** What kind of request is counted. */
export type RateKind = 'upgrades' | 'requests';

/** A refusal: which bucket was empty and when to come back. */
export interface RateRefusal { scope: 'client' | 'route'; retryAfterSec: number }

class Scope {
  readonly client: BucketParams | null;
  readonly route: BucketParams | null;
  /** The unscaled rates, for the cluster-wide buckets. */
  readonly clientFull: BucketParams | null;
  readonly routeFull: BucketParams | null;
  readonly clients = new Map<string, TokenBucket>();
  routeBucket: TokenBucket | null = null;

  constructor(cfg: RateLimitConfig['upgrades'], share: number) {
    this.client = cfg?.perClient ? bucketParams(cfg.perClient, share) : null;
    this.route = cfg?.perRoute ? bucketParams(cfg.perRoute, share) : null;
    this.clientFull = cfg?.perClient ? bucketParams(cfg.perClient) : null;
    this.routeFull = cfg?.perRoute ? bucketParams(cfg.perRoute) : null;
  }
}

const toSec = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** One route's rate limits. */
export class RouteRateLimiter {
  readonly #scopes: Record<RateKind, Scope>;
  readonly #route: string;
  readonly #shared: SharedRateLimit | null;
  readonly #timeoutMs: number;
  readonly #maxClients: number;
  /** Cluster-wide checks decided locally because Redis was slow or down. */
  fallbacks = 0;

  constructor(route: string, cfg: RateLimitConfig, opts: { share?: number; shared?: SharedRateLimit | null; timeoutMs?: number; maxClients?: number } = {}) {
    const share = opts.share ?? 1;
    this.#route = route;
    this.#scopes = { upgrades: new Scope(cfg.upgrades, share), requests: new Scope(cfg.requests, share) };
    this.#shared = cfg.cluster ? opts.shared ?? null : null;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULTS.edge.rateLimitRedisTimeoutMs;
    this.#maxClients = opts.maxClients ?? DEFAULTS.edge.rateLimitClients;
  }

  /** True when `kind` has any bucket (the caller skips the check otherwise). */
  limits(kind: RateKind): boolean { const s = this.#scopes[kind]; return s.client !== null || s.route !== null; }

  /** Local check: null when let through (a token taken from each bucket), else the refusal. */
  checkLocal(kind: RateKind, address: string, nowMs: number): RateRefusal | null {
    const s = this.#scopes[kind];
    if (s.client) {
      let b = s.clients.get(address);
      if (b) { s.clients.delete(address); } else { b = new TokenBucket(s.client, nowMs); }
      s.clients.set(address, b);
      if (s.clients.size > this.#maxClients) s.clients.delete(s.clients.keys().next().value as string);
      const wait = b.take(s.client, nowMs);
      if (wait > 0) return { scope: 'client', retryAfterSec: toSec(wait) };
    }
    if (s.route) {
      s.routeBucket ??= new TokenBucket(s.route, nowMs);
      const wait = s.routeBucket.take(s.route, nowMs);
      if (wait > 0) return { scope: 'route', retryAfterSec: toSec(wait) };
    }
    return null;
  }

  /** Cluster-wide when configured (local fallback), else local. */
  check(kind: RateKind, address: string, nowMs: number): RateRefusal | null | Promise<RateRefusal | null> {
    if (!this.#shared) return this.checkLocal(kind, address, nowMs);
    return this.#checkShared(kind, address, nowMs);
  }

  async #checkShared(kind: RateKind, address: string, nowMs: number): Promise<RateRefusal | null> {
    const s = this.#scopes[kind];
    const asks: Array<Promise<{ scope: 'client' | 'route'; waitMs: number }>> = [];
    if (s.clientFull) asks.push(this.#shared!.take(`${this.#route}\u0000${kind}\u0000c\u0000${address}`, s.clientFull.ratePerSec, s.clientFull.burst).then((waitMs) => ({ scope: 'client' as const, waitMs })));
    if (s.routeFull) asks.push(this.#shared!.take(`${this.#route}\u0000${kind}\u0000r`, s.routeFull.ratePerSec, s.routeFull.burst).then((waitMs) => ({ scope: 'route' as const, waitMs })));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((r) => { timer = setTimeout(r, this.#timeoutMs, null); });
    try {
      const answers = await Promise.race([Promise.all(asks), timeout]);
      if (answers === null) { this.fallbacks++; return this.checkLocal(kind, address, nowMs); }
      for (const a of answers) if (a.waitMs > 0) return { scope: a.scope, retryAfterSec: toSec(a.waitMs) };
      return null;
    } catch {
      this.fallbacks++;
      return this.checkLocal(kind, address, nowMs);
    } finally {
      clearTimeout(timer);
    }
  }
}
