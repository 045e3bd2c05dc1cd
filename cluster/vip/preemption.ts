/**
 * Pure priority and preemption policy: who among the live candidates should
 * own a VIP, how long a standby waits before it tries, and whether a running
 * owner should hand over to a better node. No I/O, no clock.
 */

/** What the policy needs to know about one node (from its heartbeat). */
export interface Candidate {
  id: string;
  priority: number;
  /** Heartbeat fresher than the timeout. */
  alive: boolean;
  /** Passed the readiness gate. */
  ready: boolean;
  /** In maintenance (`wsha drain`). */
  drained: boolean;
  /** With spread placement: VIPs it holds besides the one being ranked (fewer ranks first). @default 0 */
  load?: number;
  /** With spread placement: distance from this VIP's preferred node in the even assignment (placement.ts). @default 0 */
  slot?: number;
  /** With spread placement: names of the VIPs it holds (only the owner's own is needed, to move one VIP at a time). */
  holds?: readonly string[];
}

/** A node may acquire only when alive, ready and not drained. */
export function isEligible(c: Candidate): boolean {
  return c.alive && c.ready && !c.drained;
}

/**
 * Fewer VIPs held first and then the even assignment's choice (both 0 unless placement is spread); then higher
 * priority; equal priorities by id, so every node computes the same order.
 */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if ((a.load ?? 0) !== (b.load ?? 0)) return (a.load ?? 0) - (b.load ?? 0);
  if ((a.slot ?? 0) !== (b.slot ?? 0)) return (a.slot ?? 0) - (b.slot ?? 0);
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Eligible candidates, best first, leaving out `exclude` (e.g. a dead owner). */
export function rankedCandidates(all: readonly Candidate[], exclude: ReadonlySet<string> = new Set()): Candidate[] {
  return all.filter((c) => isEligible(c) && !exclude.has(c.id)).sort(compareCandidates);
}

/**
 * Rank of `selfId` among the eligible candidates (0 = best), or -1 when it
 * is not eligible itself. `self` is counted even when its own heartbeat is
 * not yet visible in the list (it knows its own state first-hand).
 */
export function rankOf(self: Candidate, all: readonly Candidate[], exclude: ReadonlySet<string> = new Set()): number {
  if (!isEligible(self) || exclude.has(self.id)) return -1;
  const others = all.filter((c) => c.id !== self.id);
  const ranked = rankedCandidates([...others, self], exclude);
  return ranked.findIndex((c) => c.id === self.id);
}

/** How long a candidate of rank `rank` waits after it saw the lease free before it tries. */
export function acquireDelayMs(rank: number, rankDelayMs: number): number {
  return rank <= 0 ? 0 : rank * rankDelayMs;
}

/**
 * With preemption on, the node an owner should hand its VIP `vip` to. By priority: the best eligible candidate
 * whose priority is strictly higher than the owner's. Spread: the least-loaded eligible node, when it holds fewer
 * VIPs than the owner holds besides this one (so the move evens the load), and only for the first of the owner's
 * VIPs by name, so that one VIP moves at a time. Null when preemption is off or no such node exists.
 */
export function preemptionTarget(owner: Candidate, all: readonly Candidate[], preempt: boolean, placement: 'priority' | 'spread' = 'priority', vip?: string): Candidate | null {
  if (!preempt) return null;
  const best = rankedCandidates(all.filter((c) => c.id !== owner.id))[0];
  if (!best) return null;
  if (placement === 'priority') return best.priority > owner.priority ? best : null;
  const first = [...(owner.holds ?? [])].sort()[0];
  if (vip !== undefined && first !== undefined && first !== vip) return null;
  return (best.load ?? 0) < (owner.load ?? 0) ? best : null;
}

/**
 * The best eligible target for a planned handover away from `ownerId`
 * (optionally only `to`), or a reason why there is none, naming each
 * rejected node.
 */
export function handoverTarget(ownerId: string, all: readonly Candidate[], to?: string): { target: Candidate } | { reason: string } {
  const others = all.filter((c) => c.id !== ownerId && (to === undefined || c.id === to));
  if (to !== undefined && to === ownerId) return { reason: `node ${to} already owns the VIP` };
  if (to !== undefined && others.length === 0) return { reason: `node ${to} is unknown (no heartbeat)` };
  const best = rankedCandidates(others)[0];
  if (best) return { target: best };
  if (others.length === 0) return { reason: 'no other node in the cluster' };
  return { reason: `no eligible target: ${others.map((c) => `${c.id} is ${whyIneligible(c)}`).join(', ')}` };
}

/** A short reason why a node is not eligible, or 'eligible'. */
export function whyIneligible(c: Candidate): string {
  if (!c.alive) return 'down (heartbeat timed out)';
  if (c.drained) return 'drained';
  if (!c.ready) return 'not ready';
  return 'eligible';
}
