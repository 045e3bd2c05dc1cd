/**
 * The status document as text for a terminal: one screen with nodes, VIPs,
 * pools and warnings. Sections render on their own for `wsha nodes` and
 * `wsha vips`.
 */
import { clockTime, duration, heading, paint, table } from '../cli/format';
import type { NodeStatus, PoolStatus, StatusDocument, VipStatus } from './status-document';

const yesNo = (b: boolean | null) => (b === null ? '-' : b ? 'yes' : 'no');

/** Nodes table. */
export function renderNodes(nodes: readonly NodeStatus[]): string {
  return table(
    ['node', 'address', 'role', 'state', 'prio', 'heartbeat', 'version', 'uptime', 'conns', 'ready'],
    nodes.map((n) => [
      n.alive ? n.id : paint(n.id, 'red'), n.address, n.role,
      n.alive ? (n.drained ? paint(`${n.state} (drained)`, 'yellow') : n.state) : paint('not seen', 'red'),
      n.priority, duration(n.heartbeatAgeMs) + (n.alive ? '' : ' ago'), n.version, duration(n.uptimeMs), n.connections, yesNo(n.ready),
    ]),
  );
}

/** Workers table: each live node's data-plane processes (pid, state, connections, restarts). */
export function renderWorkers(nodes: readonly NodeStatus[]): string {
  const rows: Array<Array<string | number | null>> = [];
  for (const n of nodes) {
    for (const w of n.workers) {
      const state = w.state === 'running' ? w.state : paint(w.state, w.state === 'exited' ? 'red' : 'yellow');
      rows.push([n.id, w.index, w.pid, state, w.connections, w.restarts ? paint(String(w.restarts), 'yellow') : 0]);
    }
  }
  return table(['node', 'worker', 'pid', 'state', 'conns', 'restarts'], rows);
}

/** Edge refusals since start, per node, route and reason (issue 12). */
export function renderDenied(nodes: readonly NodeStatus[]): string {
  const rows: Array<Array<string | number>> = [];
  for (const n of nodes) for (const [route, reason, count] of n.denied ?? []) rows.push([n.id, route, reason, count]);
  return rows.length ? table(['node', 'route', 'reason', 'refused'], rows) : `  ${paint('(none)', 'dim')}\n`;
}

/** VIPs table. */
export function renderVips(vips: readonly VipStatus[]): string {
  return table(
    ['vip', 'address', 'owner', 'epoch', 'since', 'reason', 'preempt', 'driver'],
    vips.map((v) => [v.name, v.address, v.owner ?? paint('none', 'red'), v.epoch, clockTime(v.since), v.reason, yesNo(v.preempt), v.driver]),
  );
}

/** Pools and backends table: merged verdict, then each node's view. */
export function renderPools(pools: readonly PoolStatus[]): string {
  const rows: Array<Array<string | number | null>> = [];
  for (const p of pools) {
    for (const b of p.backends) {
      const merged = b.verdict === 'up' ? paint('up', 'green') : b.verdict === 'down' ? paint('down', 'red') : paint('unknown', 'yellow');
      const verdict = b.live ? `${merged} (${b.live} live)` : merged;
      const views = b.views.map((v) => `${v.nodeId}:${v.up ? 'up' : 'down'}${v.fresh ? '' : '(stale)'}`).join(' ');
      rows.push([p.name, b.id, verdict, views, b.connections, b.lastCheckLatencyMs === null ? null : `${b.lastCheckLatencyMs}ms`]);
    }
  }
  const sessions = pools.map((p) => `${p.name}: ${p.sessions}`).join(', ');
  return table(['pool', 'backend', 'verdict', 'node views', 'conns', 'last check'], rows) + (pools.length ? `  sessions: ${sessions}\n` : '');
}

/** The whole screen of `wsha status`. */
export function renderStatus(doc: StatusDocument): string {
  const colour = doc.health === 'healthy' ? 'green' : doc.health === 'degraded' ? 'yellow' : 'red';
  const head = `cluster ${paint(doc.cluster, 'bold')}: ${paint(doc.health.toUpperCase(), colour)}   redis ${doc.redis.address} (${doc.redis.latencyMs} ms)   ${new Date(doc.generatedAt).toISOString()}\n\n`;
  const warnings = doc.warnings.length ? doc.warnings.map((w) => `  ${paint('!', 'yellow')} ${w.message}`).join('\n') + '\n' : `  ${paint('(none)', 'dim')}\n`;
  return head
    + heading('Nodes') + renderNodes(doc.nodes) + '\n'
    + (doc.nodes.some((n) => n.workers.length) ? heading('Workers') + renderWorkers(doc.nodes) + '\n' : '')
    + heading('VIPs') + renderVips(doc.vips) + '\n'
    + heading('Pools') + renderPools(doc.pools) + '\n'
    + heading('Refused at the edge') + renderDenied(doc.nodes) + '\n'
    + heading('Warnings') + warnings;
}
