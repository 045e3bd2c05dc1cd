/**
 * Edge refusals in `wsha status` (issue 12): each live node's heartbeat
 * carries what its edge refused in the last minute; the per-client
 * connection cap (limits.maxConnectionsPerClient) becomes a `client-limit`
 * warning while it refuses (it can cap a whole deployment behind an L4
 * balancer), other refusals one `edge-refusals` line per route and reason.
 */
import type { EdgeSummary } from '../../shared/records';
import type { CollectOptions } from './collect';
import type { NodeStatus, StatusWarning } from './status-document';

/** One node's alerts. */
export interface NodeEdgeAlerts { nodeId: string; alerts: EdgeSummary['alerts'] }

/** Alerts of the live nodes, read from their heartbeat records. */
export async function readEdgeAlerts(o: CollectOptions, nodes: readonly NodeStatus[]): Promise<NodeEdgeAlerts[]> {
  const live = nodes.filter((n) => n.alive);
  if (!live.length) return [];
  const raw = await o.redis.mget(...live.map((n) => o.keys.node(n.id)));
  const out: NodeEdgeAlerts[] = [];
  raw.forEach((text, i) => {
    if (!text) return;
    try {
      const alerts = (JSON.parse(text) as { edge?: EdgeSummary }).edge?.alerts;
      if (Array.isArray(alerts) && alerts.length) out.push({ nodeId: live[i].id, alerts });
    } catch { /* a record that does not parse has no alerts to show */ }
  });
  return out;
}

/** Warnings for the alerts. */
export function edgeWarnings(list: readonly NodeEdgeAlerts[], nowMs: number): StatusWarning[] {
  const out: StatusWarning[] = [];
  for (const { nodeId, alerts } of list) {
    for (const a of alerts) {
      const ago = Math.max(0, Math.round((nowMs - a.lastAt) / 1000));
      if (a.reason === 'client-limit') out.push({ code: 'client-limit', message: `node ${nodeId}: ${a.count} connections refused by limits.maxConnectionsPerClient in the last minute (last from ${a.lastAddress}, ${ago}s ago: ${a.message}); behind an L4 balancer without PROXY protocol every client has its address` });
      else out.push({ code: 'edge-refusals', message: `node ${nodeId}: route ${a.route}: ${a.count} refused (${a.reason}) in the last minute, last from ${a.lastAddress} ${ago}s ago` });
    }
  }
  return out;
}
