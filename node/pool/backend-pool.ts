/**
 * A pool's membership and its balancer. `apply()` swaps in a new pool config
 * atomically: backends keep their objects (and live counts) by id, new ones
 * are added, and ones that left are marked `removed` and returned so that
 * the caller decides what happens to their tunnels.
 */
import type { PoolConfig } from '../../shared/config/schema';
import type { ClusterView } from '../../shared/cluster-view';
import { Backend } from './backend';
import { DEFAULT_BACKEND_TLS, resolveBackendTls, type BackendTls } from '../../shared/tls/backend-tls';
import { createBalancer, type Balancer, type PickContext } from '../balance/balancer';

/** One backend pool. */
export class BackendPool {
  readonly name: string;
  config: PoolConfig;
  /** Current members, in config order (removed ones are not here). */
  backends: Backend[] = [];
  balancer: Balancer;
  readonly #view: ClusterView;

  constructor(name: string, config: PoolConfig, view: ClusterView, tls?: BackendTls) {
    this.name = name;
    this.config = config;
    this.#view = view;
    this.balancer = createBalancer(config, view);
    this.apply(config, tls);
  }

  /**
   * Swaps in a new config; returns the backends that left the pool. `tls` is
   * the pool's resolved TLS settings (resolveBackendTls); when absent it is
   * resolved here, and a CA file that cannot be read leaves verification on
   * against the system CAs (fail closed; ProxyNode.start and reload report it).
   */
  apply(config: PoolConfig, tls?: BackendTls): Backend[] {
    let t = tls;
    if (!t) { try { t = resolveBackendTls(this.name, config.tls); } catch { t = DEFAULT_BACKEND_TLS; } }
    const old = new Map(this.backends.map((b) => [b.id, b]));
    const next: Backend[] = [];
    for (const cfg of config.backends) {
      const existing = old.get(cfg.id);
      if (existing) { existing.update(cfg); old.delete(cfg.id); next.push(existing); } else next.push(new Backend(this.name, cfg));
    }
    for (const b of next) b.tlsSettings = t;
    for (const gone of old.values()) gone.removed = true;
    if (config.balance !== this.config.balance) this.balancer = createBalancer(config, this.#view);
    this.config = config;
    this.backends = next;
    return [...old.values()];
  }

  /** True when `b` may take a new connection: in the pool, weighted, and up by the merged verdict. */
  isEligible(b: Backend): boolean {
    return !b.removed && b.weight > 0 && this.#view.health.isUp(this.name, b.id);
  }

  /** Chooses a backend for a new connection, or null when none is eligible. */
  pick(ctx: PickContext): Backend | null {
    return this.balancer.pick(this, ctx);
  }

  /** Backend by id (current members only). */
  get(id: string): Backend | undefined {
    for (const b of this.backends) if (b.id === id) return b;
    return undefined;
  }

  /** JSON-able view for the admin API. */
  snapshot(): { name: string; balance: string; backends: ReturnType<Backend['snapshot']>[] } {
    return { name: this.name, balance: this.config.balance, backends: this.backends.map((b) => ({ ...b.snapshot(), up: this.#view.health.isUp(this.name, b.id) })) };
  }
}
