/**
 * The `Balancer` interface and its factory. Strategies are pure choosers
 * over a pool's eligible backends; the upgrade handler does any I/O (the
 * affinity lookup for sticky) before calling `pick`.
 */
import type { PoolConfig } from '../../shared/config/schema';
import type { ClusterView } from '../../shared/cluster-view';
import type { Backend } from '../pool/backend';
import type { BackendPool } from '../pool/backend-pool';
import { RoundRobinBalancer } from './round-robin';
import { LeastConnectionsBalancer } from './least-connections';
import { StickyBalancer } from './sticky';

/** What a balancer knows about the connection it places. */
export interface PickContext {
  /** Client address (from PROXY protocol when the listener uses it). */
  clientAddress: string;
  /** Session key for sticky pools (cookie, header or query value, else the client address); null elsewhere. */
  sessionKey: string | null;
  /** Backend id the affinity store remembered for this session, if any. */
  preferredId: string | null;
}

/** Chooses a backend among a pool's eligible members. */
export interface Balancer {
  readonly kind: 'round-robin' | 'least-conn' | 'sticky';
  /** The chosen backend, or null when no backend is eligible. */
  pick(pool: BackendPool, ctx: PickContext): Backend | null;
}

/** Creates the balancer a pool config asks for. */
export function createBalancer(config: PoolConfig, view: ClusterView): Balancer {
  switch (config.balance) {
    case 'least-conn': return new LeastConnectionsBalancer(view);
    case 'sticky': return new StickyBalancer();
    default: return new RoundRobinBalancer(view);
  }
}
