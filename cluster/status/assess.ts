/**
 * Pure judgement of a collected status: the warnings an operator should
 * see and the overall health that `wsha status` turns into its exit code.
 *
 *   down      no live node, a VIP without owner, or a pool with no backend up
 *   degraded  a node not seen / not ready / serving with an unusable peer address, a backend down, Redis slow
 *   healthy   none of the above
 */
import type { ClusterHealth, StatusDocument, StatusWarning } from './status-document';

/** Redis round trips slower than this make the cluster degraded. */
export const REDIS_SLOW_MS = 50;

const DOWN_CODES: ReadonlySet<StatusWarning['code']> = new Set(['no-nodes', 'vip-without-owner', 'pool-down']);
/** Shown, but not a sign of trouble in the cluster: refusals are the edge doing its job (issue 12). */
const INFO_CODES: ReadonlySet<StatusWarning['code']> = new Set(['edge-refusals']);

/** Warnings for a status document (its own `warnings` and `health` are ignored). */
export function warningsFor(doc: Omit<StatusDocument, 'warnings' | 'health'>): StatusWarning[] {
  const out: StatusWarning[] = [];
  const alive = doc.nodes.filter((n) => n.alive);
  if (alive.length === 0) out.push({ code: 'no-nodes', message: 'no node is sending heartbeats' });
  for (const n of doc.nodes) {
    if (!n.alive) out.push({ code: 'node-not-seen', message: `node ${n.id} not seen for ${Math.round((n.heartbeatAgeMs ?? 0) / 100) / 10}s` });
    else if (n.ready === false && !n.drained) out.push({ code: 'node-not-ready', message: `node ${n.id} is not ready (${n.state})` });
    if (n.alive && n.peerProblem) out.push({ code: 'peer-address-unusable', message: `node ${n.id}: ${n.peerProblem}` });
  }
  for (const v of doc.vips) if (!v.owner) out.push({ code: 'vip-without-owner', message: `VIP ${v.name} has no owner` });
  for (const p of doc.pools) {
    const down = p.backends.filter((b) => b.verdict === 'down');
    for (const b of down) out.push({ code: 'backend-down', message: `backend ${p.name}/${b.id} is down` });
    if (p.backends.length > 0 && down.length === p.backends.length) out.push({ code: 'pool-down', message: `pool ${p.name} has no backend up` });
  }
  if (doc.redis.latencyMs > REDIS_SLOW_MS) out.push({ code: 'redis-slow', message: `Redis round trip took ${doc.redis.latencyMs.toFixed(1)} ms` });
  return out;
}

/** Overall health from the warnings. */
export function healthOf(warnings: readonly StatusWarning[]): ClusterHealth {
  if (warnings.some((w) => DOWN_CODES.has(w.code))) return 'down';
  return warnings.some((w) => !INFO_CODES.has(w.code)) ? 'degraded' : 'healthy';
}

/** Exit code of `wsha status` for a health verdict: 0, 1 or 2. */
export function exitCodeOf(health: ClusterHealth): number {
  return health === 'healthy' ? 0 : health === 'degraded' ? 1 : 2;
}
