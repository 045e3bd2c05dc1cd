/**
 * One edge report from the reports of a node's worker processes: refusal
 * and policy-close counts summed per route and reason, alerts of one route
 * and reason merged (counts summed, the latest address and time kept), JWKS
 * sources and admission queues summed by route and pool. Pure.
 */
import type { EdgeAlert, EdgeReport } from './edge-report';

function sumTriples(parts: ReadonlyArray<Array<[string, string, number]>>): Array<[string, string, number]> {
  const m = new Map<string, [string, string, number]>();
  for (const list of parts) {
    for (const [route, reason, n] of list) {
      const k = `${route}\u0000${reason}`;
      const seen = m.get(k);
      if (seen) seen[2] += n; else m.set(k, [route, reason, n]);
    }
  }
  return [...m.values()];
}

/** An empty report (a node whose workers have not answered yet). */
export function emptyEdgeReport(): EdgeReport {
  return { denied: [], policyCloses: [], alerts: [], jwks: [], admission: [] };
}

/** Merges `parts` (one per worker). */
export function mergeEdgeReports(parts: readonly EdgeReport[]): EdgeReport {
  const alerts = new Map<string, EdgeAlert>();
  const jwks = new Map<string, EdgeReport['jwks'][number]>();
  const admission = new Map<string, EdgeReport['admission'][number]>();
  for (const p of parts) {
    for (const a of p.alerts) {
      const k = `${a.route}\u0000${a.reason}`;
      const seen = alerts.get(k);
      if (!seen) { alerts.set(k, { ...a }); continue; }
      seen.count += a.count;
      if (a.lastAt > seen.lastAt) { seen.lastAt = a.lastAt; seen.lastAddress = a.lastAddress; seen.message = a.message; }
    }
    for (const j of p.jwks) {
      const k = `${j.route}\u0000${j.url}`;
      const seen = jwks.get(k);
      if (!seen) { jwks.set(k, { ...j }); continue; }
      seen.keys = Math.max(seen.keys, j.keys);
      seen.fetches += j.fetches;
      seen.failures += j.failures;
      seen.lastGoodAt = Math.max(seen.lastGoodAt, j.lastGoodAt);
    }
    for (const q of p.admission) {
      const seen = admission.get(q.pool);
      if (!seen) { admission.set(q.pool, { ...q }); continue; }
      seen.waiting += q.waiting;
      seen.admitted += q.admitted;
      seen.queued += q.queued;
      seen.refused += q.refused;
    }
  }
  return {
    denied: sumTriples(parts.map((p) => p.denied)),
    policyCloses: sumTriples(parts.map((p) => p.policyCloses)),
    alerts: [...alerts.values()], jwks: [...jwks.values()], admission: [...admission.values()],
  };
}
