/**
 * Smooth weighted round-robin (the nginx algorithm): each pick adds every
 * eligible backend's effective weight to its running score, takes the
 * highest, and subtracts the total from the winner. Weights 5:1:1 give
 * a a b a c a a rather than a a a a a b c.
 */
import type { ClusterView } from '../../shared/cluster-view';
import type { Backend } from '../pool/backend';
import type { BackendPool } from '../pool/backend-pool';
import type { Balancer, PickContext } from './balancer';

/** Weighted round-robin. */
export class RoundRobinBalancer implements Balancer {
  readonly kind = 'round-robin' as const;
  /** Running scores by backend object (a WeakMap so removed backends drop out). */
  #score = new WeakMap<Backend, number>();
  readonly #view: ClusterView;

  constructor(view: ClusterView) { this.#view = view; }

  pick(pool: BackendPool, _ctx: PickContext): Backend | null {
    let best: Backend | null = null;
    let bestScore = -Infinity;
    let total = 0;
    for (const b of pool.backends) {
      if (!pool.isEligible(b)) continue;
      const w = b.weight * this.#view.health.rampFactor(pool.name, b.id);
      const s = (this.#score.get(b) ?? 0) + w;
      this.#score.set(b, s);
      total += w;
      if (s > bestScore) { best = b; bestScore = s; }
    }
    if (best) this.#score.set(best, bestScore - total);
    return best;
  }
}
