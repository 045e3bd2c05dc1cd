/**
 * The edge policies of one config version: a RoutePolicy per route that
 * asks for one (null for the others, so the handlers skip the edge at no
 * cost), and the admission queue of each pool that has one. Built at start
 * and on every reload; a reload keeps what would otherwise be lost: JWKS
 * sources with unchanged settings (their last good key set and refresh
 * timer) and admission queues of pools with unchanged admission settings
 * (their waiters). Rate buckets start full after a reload that changed
 * them, which only errs towards letting clients in.
 */
import type { Logger } from 'pino';
import type { Config, PoolConfig, RouteConfig } from '../../shared/config/schema';
import type { SharedRateLimit } from '../../shared/ports/shared-rate-limit';
import { routeLabel } from '../../shared/config/edge-validate';
import { ConfigError, KeyLoadError } from '../../shared/errors';
import { RoutePolicy } from './route-policy';
import type { JwksSource } from '../auth/jwks-source';
import { AdmissionQueue } from '../limits/admission-queue';

/** What the table is built with. */
export interface EdgeDeps {
  log: Logger;
  /** This process's share of per-node rates; 1 for a node that is one process. @default 1 */
  share?: number;
  shared?: SharedRateLimit | null;
}

/** Route policies and pool admission of one config version. */
export class EdgePolicies {
  /** By route index (config order); null where the route has no edge settings. */
  readonly routes: ReadonlyArray<RoutePolicy | null>;
  /** Route names by index (labels of logs and metrics). */
  readonly names: readonly string[];
  readonly #admission = new Map<string, { settings: string; queue: AdmissionQueue }>();
  readonly #deps: EdgeDeps;

  /** Builds the table for `config`; `prev` lends its JWKS sources and admission queues. Throws KeyLoadError. */
  constructor(config: Pick<Config, 'routes' | 'pools' | 'cluster'>, deps: EdgeDeps, prev: EdgePolicies | null = null) {
    this.#deps = deps;
    const reuse = (url: string, settings: string): JwksSource | null => (prev ? prev.#jwks(url, settings) : null);
    const pdeps = { log: deps.log, share: deps.share ?? 1, shared: deps.shared ?? null, sharedTimeoutMs: config.cluster.redis.rateLimitTimeoutMs, reuseJwks: reuse };
    this.names = config.routes.map((r) => routeLabel(r));
    const problems: string[] = [];
    this.routes = config.routes.map((r: RouteConfig, i) => {
      if (!RoutePolicy.wanted(r)) return null;
      try { return new RoutePolicy(this.names[i], r, pdeps); } catch (err) {
        if (!(err instanceof KeyLoadError)) throw err;
        problems.push(`routes[${i}].auth.jwt: ${err.message}`);
        return null;
      }
    });
    if (problems.length) throw new ConfigError('JWT keys cannot be loaded', problems);
    if (prev) for (const [pool, a] of prev.#admission) this.#admission.set(pool, a);
  }

  #jwks(url: string, settings: string): JwksSource | null {
    for (const p of this.routes) if (p?.jwt?.jwks && p.jwt.jwks.config.url === url && JSON.stringify(p.jwt.jwks.config) === settings) return p.jwt.jwks;
    return null;
  }

  /** Starts background work of every policy. */
  start(): void { for (const p of this.routes) p?.start(); }

  /** Stops what `next` does not reuse. */
  retire(next: EdgePolicies | null): void {
    const kept = new Set<JwksSource>();
    if (next) for (const p of next.routes) if (p?.jwt?.jwks) kept.add(p.jwt.jwks);
    for (const p of this.routes) p?.stop(!!p.jwt?.jwks && kept.has(p.jwt.jwks));
    if (!next) for (const a of this.#admission.values()) a.queue.close();
  }

  /** The admission queue of `pool`, or null; made (or remade) when its settings changed, so live pool changes apply too. */
  admission(pool: string, cfg: PoolConfig): AdmissionQueue | null {
    const a = cfg.admission;
    const held = this.#admission.get(pool);
    if (!a) { if (held) { held.queue.close(); this.#admission.delete(pool); } return null; }
    const settings = JSON.stringify(a);
    if (held && held.settings === settings) return held.queue;
    held?.queue.close();
    const queue = new AdmissionQueue(a, { share: this.#deps.share ?? 1 });
    this.#admission.set(pool, { settings, queue });
    return queue;
  }

  /** Admission queues by pool (status). */
  admissionQueues(): Array<[string, AdmissionQueue]> { return [...this.#admission].map(([p, a]) => [p, a.queue]); }
}
