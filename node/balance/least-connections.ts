/**
 * Least connections: the eligible backend with the fewest live connections
 * per unit of weight, counting this node's tunnels and requests plus what
 * the other nodes report (`view.counts.remote`). Ties rotate, so that a
 * burst of new connections on an idle pool still spreads.
 */
import type { ClusterView } from '../../shared/cluster-view';
import type { Backend } from '../pool/backend';
import type { BackendPool } from '../pool/backend-pool';
import type { Balancer, PickContext } from './balancer';

/** Least connections, weighted. */
export class LeastConnectionsBalancer implements Balancer {
  readonly kind = 'least-conn' as const;
  #rotate = 0;
  readonly #view: ClusterView;

  constructor(view: ClusterView) { this.#view = view; }

  pick(pool: BackendPool, _ctx: PickContext): Backend | null {
    const list = pool.backends;
    const n = list.length;
    if (n === 0) return null;
    const start = this.#rotate++ % n;
    let best: Backend | null = null;
    let bestLoad = Infinity;
    for (let i = 0; i < n; i++) {
      const b = list[(start + i) % n];
      if (!pool.isEligible(b)) continue;
      const w = b.weight * this.#view.health.rampFactor(pool.name, b.id) || 1e-6;
      const load = (b.load + this.#view.counts.remote(pool.name, b.id) + 1) / w;
      if (load < bestLoad) { best = b; bestLoad = load; }
    }
    if (this.#rotate > 1e9) this.#rotate = 0;
    return best;
  }
}
