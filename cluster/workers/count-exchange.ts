/**
 * Least-conn across the processes of a node: a worker counts its own
 * connections on each backend; what it must add is what the node's other
 * workers and the other nodes hold. Pure, so the sums are tested alone.
 */
import type { PoolConfig } from '../../shared/config/schema';
import type { WorkerLoad } from '../../shared/ports/worker-protocol';

type Row = [pool: string, backendId: string, count: number];

/** Rows of connections held elsewhere for `self`: siblings' loads plus other nodes'. */
export function remoteCountsFor(
  self: { load: WorkerLoad },
  all: ReadonlyArray<{ load: WorkerLoad }>,
  pools: Readonly<Record<string, PoolConfig>>,
  clusterRemote: (pool: string, backendId: string) => number,
): Row[] {
  const siblings = new Map<string, number>();
  for (const w of all) {
    if (w === self) continue;
    for (const [pool, id, n] of w.load.counts) {
      const k = `${pool}\u0000${id}`;
      siblings.set(k, (siblings.get(k) ?? 0) + n);
    }
  }
  const out: Row[] = [];
  for (const [pool, p] of Object.entries(pools)) {
    for (const b of p.backends) {
      const n = clusterRemote(pool, b.id) + (siblings.get(`${pool}\u0000${b.id}`) ?? 0);
      if (n > 0) out.push([pool, b.id, n]);
    }
  }
  return out;
}
