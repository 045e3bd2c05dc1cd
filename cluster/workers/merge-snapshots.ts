/**
 * One node snapshot from its workers' snapshots: counts are summed, a
 * listener serves when any worker's copy of it serves, and a backend's
 * tunnels are the sum over workers. Pure.
 */
import type { Config } from '../../shared/config/schema';
import { mergeEdgeReports } from './merge-edge';
import type { BackendSnapshot, NodeSnapshot, PoolSnapshot, WorkerSnapshot } from '../../shared/ports/data-plane';

function sumRecords(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Merges `parts` (one per running worker). */
export function mergeSnapshots(config: Config, parts: readonly NodeSnapshot[], workers: WorkerSnapshot[], draining: boolean): NodeSnapshot {
  const out: NodeSnapshot = {
    nodeId: config.node.id,
    state: parts.length === 0 ? 'closed' : parts.some((p) => p.state === 'running') ? 'running' : parts[0]!.state,
    draining: draining || parts.some((p) => p.draining),
    connections: 0, tunnels: 0, listeners: [], pools: [], tunnelsByPool: {}, limits: config.limits, bytes: { in: 0, out: 0 }, refusals: {}, workers,
  };
  const listeners = new Map<string, NodeSnapshot['listeners'][number]>();
  const pools = new Map<string, { pool: PoolSnapshot; backends: Map<string, BackendSnapshot> }>();
  for (const p of parts) {
    out.connections += p.connections;
    out.tunnels += p.tunnels;
    out.bytes.in += p.bytes.in;
    out.bytes.out += p.bytes.out;
    sumRecords(out.refusals, p.refusals);
    for (const [pool, byBackend] of Object.entries(p.tunnelsByPool)) sumRecords(out.tunnelsByPool[pool] ??= {}, byBackend);
    for (const l of p.listeners) {
      const seen = listeners.get(l.name);
      if (!seen) listeners.set(l.name, { ...l });
      else seen.serving ||= l.serving;
    }
    for (const pool of p.pools) {
      let m = pools.get(pool.name);
      if (!m) { m = { pool: { ...pool, backends: [] }, backends: new Map() }; pools.set(pool.name, m); }
      for (const b of pool.backends) {
        const seen = m.backends.get(b.id);
        if (!seen) { const copy = { ...b }; m.backends.set(b.id, copy); m.pool.backends.push(copy); continue; }
        seen.tunnels += b.tunnels;
        seen.inFlight += b.inFlight;
        seen.tunnelsTotal += b.tunnelsTotal;
      }
    }
  }
  const edge = mergeEdgeReports(parts.map((p) => p.edge));
  if (edge) out.edge = edge;
  out.listeners = [...listeners.values()];
  out.pools = [...pools.values()].map((m) => m.pool);
  return out;
}
