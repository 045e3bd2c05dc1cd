/**
 * The state the request and upgrade handlers read at call time. ProxyNode
 * owns it and swaps router, pools and limits on reload; handlers never keep
 * copies, so a reload takes effect for the next request.
 */
import type { Logger } from 'pino';
import type { LimitsConfig } from '../shared/config/schema';
import type { ClusterView } from '../shared/cluster-view';
import type { Router } from './route/router';
import type { BackendPool } from './pool/backend-pool';
import type { TunnelRegistry } from './upgrade/tunnel-registry';
import type { EdgePolicies } from './access/edge-policies';
import type { DeniedLog } from './access/denied-log';

/** Handler-visible node state. */
export interface NodeRuntime {
  router: Router;
  pools: Map<string, BackendPool>;
  limits: LimitsConfig;
  /** cluster.affinity.lookupTimeoutMs: longest a sticky pick waits for the affinity store. */
  affinityLookupTimeoutMs: number;
  readonly view: ClusterView;
  readonly registry: TunnelRegistry;
  readonly log: Logger;
  /** True from drain() on: new upgrades get 503, HTTP responses carry Connection: close. */
  draining: boolean;
  /** Refused requests and handshakes by reason (read at scrape time). */
  readonly refusals: Map<string, number>;
  /** Plain HTTP requests by `pool\0status class`. */
  readonly httpRequests: Map<string, number>;
  /** Edge policies of the running config (issue 12), swapped on reload. */
  edge: EdgePolicies;
  /** Every edge refusal: counts, log lines, status alerts. */
  readonly denied: DeniedLog;
}

/** Counts one refusal by reason. */
export function countRefusal(rt: NodeRuntime, reason: string): void {
  rt.refusals.set(reason, (rt.refusals.get(reason) ?? 0) + 1);
}
