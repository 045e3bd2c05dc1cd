/**
 * What the edge tells the rest of the node: refusals by route and reason,
 * tunnels closed by policy, the alerts of the last minute (carried by the
 * heartbeat to `wsha status`), and the state of JWKS sources and
 * admission queues (admin API).
 */
import type { NodeRuntime } from '../runtime';
import type { EdgeReport } from '../../shared/ports/edge-report';

export type { EdgeReport };

/** Builds the report of `rt`. */
export function edgeReport(rt: NodeRuntime): EdgeReport {
  const jwks: EdgeReport['jwks'] = [];
  rt.edge.routes.forEach((p) => {
    const j = p?.jwt?.jwks;
    if (j) jwks.push({ route: p.name, url: j.config.url, keys: j.keys.length, fetches: j.fetches, failures: j.failures, lastGoodAt: j.lastGoodAt });
  });
  return {
    denied: rt.denied.totals(),
    policyCloses: [...rt.registry.policyCloses].map(([k, n]) => { const [route, reason] = k.split('\u0000'); return [route, reason, n]; }),
    alerts: rt.denied.alerts(),
    jwks,
    admission: rt.edge.admissionQueues().map(([pool, q]) => ({ pool, waiting: q.waiting, admitted: q.admitted, queued: q.queued, refused: q.refused })),
  };
}
