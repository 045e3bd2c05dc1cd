/**
 * What the worker fleet reads from the control process's shared state:
 * the pools in force, the routing table of verdicts, other nodes' counts,
 * and the node's one affinity store and passive-health counter (workers
 * reach them by IPC). Self-signed certificates are made here once per node.
 */
import type { SharedState } from '../shared-state';
import type { FleetSources } from '../workers/worker-fleet';
import { selfSignedPems } from '../../shared/tls/self-signed-pem';

/** Sources for the fleet from `shared`. */
export function fleetSources(shared: SharedState): FleetSources {
  return {
    pools: () => shared.pools.pools,
    health: () => shared.health.routingTable(),
    clusterRemote: (pool, backendId) => shared.counts.remote(pool, backendId),
    affinity: shared.sessions,
    passive: shared.passive,
    rateLimit: shared.view.rateLimit,
    selfSigned: (config) => selfSignedPems(config),
  };
}
