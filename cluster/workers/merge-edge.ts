/**
 * One node's edge summary from its workers' (issue 12): refusal counts
 * summed by route and reason, alerts of the same route and reason merged
 * (counts summed, the latest address and time kept). Pure.
 */
import type { EdgeSummary } from '../../shared/records';
import type { EdgeReport } from '../../shared/ports/edge-report';

/** Merges the summaries of the running workers. */
export function mergeEdge(parts: ReadonlyArray<EdgeSummary | undefined>): EdgeSummary {
  const denied = new Map<string, [string, string, number]>();
  const alerts = new Map<string, EdgeSummary['alerts'][number]>();
  for (const p of parts) {
    if (!p) continue;
    for (const [route, reason, n] of p.denied) {
      const k = `${route}\u0000${reason}`;
      const d = denied.get(k);
      if (d) d[2] += n; else denied.set(k, [route, reason, n]);
    }
    for (const a of p.alerts) {
      const k = `${a.route}\u0000${a.reason}`;
      const seen = alerts.get(k);
      if (!seen) { alerts.set(k, { ...a }); continue; }
      seen.count += a.count;
      if (a.lastAt > seen.lastAt) { seen.lastAt = a.lastAt; seen.lastAddress = a.lastAddress; seen.message = a.message; }
    }
  }
  return { denied: [...denied.values()], alerts: [...alerts.values()] };
}

/** The admin API's edge report of a node from its workers' reports. */
export function mergeEdgeReports(parts: ReadonlyArray<EdgeReport | undefined>): EdgeReport | undefined {
  const present = parts.filter((p): p is EdgeReport => p !== undefined);
  if (!present.length) return undefined;
  const base = mergeEdge(present);
  const closes = mergeEdge(present.map((p) => ({ denied: p.policyCloses, alerts: [] })));
  return { denied: base.denied, policyCloses: closes.denied, alerts: base.alerts, jwks: present.flatMap((p) => p.jwks), admission: present.flatMap((p) => p.admission) };
}
