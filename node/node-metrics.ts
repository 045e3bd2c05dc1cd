/**
 * Copies the node's hot-path integer counters into the Prometheus metrics
 * when /metrics is scraped (shared/metrics.ts `addCollector`): nothing on
 * the hot path touches prom-client. The open-tunnel gauge is counted by a
 * walk over the tunnels, in a collector of its own, so that a read of the
 * counters alone (the refusal window's) costs nothing per tunnel.
 */
import type { ProxyNode } from './proxy-node';

/** The gauge whose collector walks every tunnel. */
const OPEN_METRIC = 'wsha_connections_open';

/** Registers the collectors of one node. */
export function registerNodeMetrics(node: ProxyNode): void {
  const m = node.metrics;
  const seen = { bytesIn: 0, bytesOut: 0, opened: new Map<string, number>(), refusals: new Map<string, number>(), http: new Map<string, number>(), denied: new Map<string, number>(), policyCloses: new Map<string, number>() };
  // A walk over every tunnel: run for a full scrape, not for reads of other metrics (the refusal window's, once a minute).
  m.addCollector(() => {
    m.connectionsOpen.reset();
    const open = new Map<string, number>();
    for (const t of node.rt.registry.tunnels) {
      if (t.state !== 'open') continue;
      const k = `${t.origin.listener}\u0000${t.target.pool}\u0000${t.target.id}`;
      open.set(k, (open.get(k) ?? 0) + 1);
    }
    for (const [k, n] of open) { const [listener, pool, backend] = k.split('\u0000'); m.connectionsOpen.set({ listener, pool, backend }, n); }
  }, [OPEN_METRIC]);
  m.addCollector(() => {
    const rt = node.rt;
    for (const [k, total] of rt.registry.openedTotal) {
      const d = total - (seen.opened.get(k) ?? 0);
      if (d > 0) { const [listener, pool, backend] = k.split('\u0000'); m.connectionsTotal.inc({ listener, pool, backend }, d); seen.opened.set(k, total); }
    }
    const refusals = new Map(rt.refusals);
    for (const [k, n] of rt.registry.failures) refusals.set(`handshake-${k}`, n);
    for (const [reason, total] of refusals) {
      const d = total - (seen.refusals.get(reason) ?? 0);
      if (d > 0) { m.handshakeFailuresTotal.inc({ reason }, d); seen.refusals.set(reason, total); }
    }
    for (const [k, total] of rt.httpRequests) {
      const d = total - (seen.http.get(k) ?? 0);
      if (d > 0) { const [pool, status] = k.split('\u0000'); m.httpRequestsTotal.inc({ pool, status }, d); seen.http.set(k, total); }
    }
    const s = rt.registry.stats;
    if (s.bytesIn > seen.bytesIn) { m.bytesTotal.inc({ direction: 'in' }, s.bytesIn - seen.bytesIn); seen.bytesIn = s.bytesIn; }
    if (s.bytesOut > seen.bytesOut) { m.bytesTotal.inc({ direction: 'out' }, s.bytesOut - seen.bytesOut); seen.bytesOut = s.bytesOut; }
    m.draining.set(rt.draining ? 1 : 0);
    copyLabelled(rt.denied.counts, seen.denied, (route, reason, d) => m.accessDeniedTotal.inc({ route, reason }, d));
    copyLabelled(rt.registry.policyCloses, seen.policyCloses, (route, reason, d) => m.policyClosesTotal.inc({ route, reason }, d));
  });
}

/** Adds what `totals` (keyed `a\0b`) gained since the last scrape. */
function copyLabelled(totals: ReadonlyMap<string, number>, seen: Map<string, number>, inc: (a: string, b: string, d: number) => void): void {
  for (const [k, total] of totals) {
    const d = total - (seen.get(k) ?? 0);
    if (d <= 0) continue;
    const [a, b] = k.split('\u0000');
    inc(a, b, d);
    seen.set(k, total);
  }
}
