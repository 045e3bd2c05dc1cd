/**
 * Who should own which VIP: the candidates of one VIP as the ranking in
 * preemption.ts sees them, from what each node's heartbeat says (its
 * priority for that VIP, the VIPs it holds, whether it may own one).
 *
 * `priority`: every VIP goes to its best-priority node (node.priority, or
 * node.vipPriorities for that VIP), as keepalived does per instance.
 * `spread`: every node computes the same even assignment: VIPs by name,
 * eligible nodes by priority then id, VIP i preferred on node i mod n. A
 * candidate ranks first by how many other VIPs it holds, then by its
 * distance from the preferred node, so that at start each node takes its
 * share, and on a death the dead node's VIPs go to the least-loaded
 * survivors. Pure: no I/O, no clock.
 */
import { compareCandidates, isEligible, type Candidate } from './preemption';

export type Placement = 'priority' | 'spread';

/** What one node's heartbeat (or, for this node, its own state) says. */
export interface NodeFacts {
  id: string;
  /** node.priority */
  priority: number;
  /** node.vipPriorities */
  vipPriorities?: Readonly<Record<string, number>>;
  alive: boolean;
  ready: boolean;
  drained: boolean;
  /** VIPs it holds now. */
  holds: readonly string[];
}

/** A node's priority for `vip`. */
export function priorityFor(n: Pick<NodeFacts, 'priority' | 'vipPriorities'>, vip: string): number {
  return n.vipPriorities?.[vip] ?? n.priority;
}

/** The candidates of `vip` among `nodes`, in the input order; `vips` are every VIP of the cluster. */
export function candidatesFor(vip: string, vips: readonly string[], placement: Placement, nodes: readonly NodeFacts[]): Candidate[] {
  const base = nodes.map((n): Candidate => ({ id: n.id, priority: priorityFor(n, vip), alive: n.alive, ready: n.ready, drained: n.drained, holds: n.holds }));
  if (placement === 'priority') return base;
  const eligible = base.filter(isEligible).sort(compareCandidates);
  const order = [...new Set(vips)].sort();
  const preferred = eligible.length ? Math.max(0, order.indexOf(vip)) % eligible.length : 0;
  const position = new Map(eligible.map((c, j) => [c.id, (j - preferred + eligible.length) % eligible.length]));
  return base.map((c) => ({
    ...c,
    load: (c.holds ?? []).filter((v) => v !== vip).length,
    slot: position.get(c.id) ?? eligible.length,
  }));
}
