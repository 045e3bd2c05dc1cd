/**
 * The JSON-able state of a node for the admin API (`GET /state`): listeners
 * and whether they serve, pools with their backends and tunnel counts,
 * limits, and whether the node drains.
 */
import type { NodeSnapshot } from '../shared/ports/data-plane';
import type { ProxyNode } from './proxy-node';
import { edgeReport } from './access/edge-report';

export type { NodeSnapshot };

/** Builds the snapshot of `node`. */
export function buildSnapshot(node: ProxyNode): NodeSnapshot {
  const rt = node.rt;
  const pools = [...rt.pools.values()].map((p) => p.snapshot() as NodeSnapshot['pools'][number]);
  const tunnelsByPool: Record<string, Record<string, number>> = {};
  for (const t of rt.registry.tunnels) {
    const byBackend = (tunnelsByPool[t.target.pool] ??= {});
    byBackend[t.target.id] = (byBackend[t.target.id] ?? 0) + 1;
  }
  return {
    nodeId: node.config.node.id,
    state: node.nodeState,
    draining: rt.draining,
    connections: node.connectionCount(),
    tunnels: rt.registry.size,
    listeners: [...node.listeners.values()].map((l) => ({
      name: l.info.name, vip: l.info.vip, address: l.info.host, port: l.info.port, tls: l.info.proto === 'https', proxyProtocol: l.config.proxyProtocol, serving: l.serving,
    })),
    pools,
    tunnelsByPool,
    limits: rt.limits,
    bytes: { in: rt.registry.stats.bytesIn, out: rt.registry.stats.bytesOut },
    refusals: Object.fromEntries(rt.refusals),
    edge: edgeReport(rt),
  };
}
