/**
 * Pre-flight of a planned handover, pure: from the membership view and the
 * lease, the owner to move away from and the target to move to, or the
 * reason nothing may move. The target must be alive, ready, not drained,
 * and must not see a backend down that the owner sees up (it would route
 * the clients it receives worse than they are routed now).
 */
import type { Member } from '../membership/members';
import type { LeaseValue } from '../vip/lease';
import { handoverTarget, rankedCandidates, whyIneligible } from '../vip/preemption';
import { toCandidate } from '../membership/members';

/** A handover that may go ahead. */
export interface HandoverPlan { vip: string; owner: string; epoch: number; target: string }

/** Backends `target` sees down that `owner` sees up. */
export function worseBackends(owner: Member | undefined, target: Member): string[] {
  const ownerDown = new Set(owner?.record.backendsDown ?? []);
  return target.record.backendsDown.filter((b) => !ownerDown.has(b));
}

/** Decides a handover of `vip` (optionally to `to`): a plan, or the reason it must not happen. */
export function planHandover(vip: string, lease: LeaseValue | null, members: readonly Member[], to?: string): HandoverPlan | { reason: string } {
  if (!lease) return { reason: `VIP ${vip} has no owner right now (nothing to hand over)` };
  const owner = members.find((m) => m.record.id === lease.nodeId);
  if (!owner || !owner.alive) return { reason: `owner ${lease.nodeId} of VIP ${vip} is down; a standby takes over by itself` };
  const candidates = members.map((m) => toCandidate(m, vip));
  if (to !== undefined) {
    const picked = handoverTarget(lease.nodeId, candidates, to);
    if ('reason' in picked) return { reason: `cannot hand VIP ${vip} to ${to}: ${picked.reason.replace(/^no eligible target: /, '')}` };
    const m = members.find((x) => x.record.id === to)!;
    const worse = worseBackends(owner, m);
    if (worse.length) return { reason: `cannot hand VIP ${vip} to ${to}: it sees backends down that ${lease.nodeId} sees up (${worse.join(', ')})` };
    return { vip, owner: lease.nodeId, epoch: lease.epoch, target: to };
  }
  const others = candidates.filter((c) => c.id !== lease.nodeId);
  const rejected: string[] = others.filter((c) => whyIneligible(c) !== 'eligible').map((c) => `${c.id} is ${whyIneligible(c)}`);
  for (const c of rankedCandidates(others)) {
    const worse = worseBackends(owner, members.find((x) => x.record.id === c.id)!);
    if (worse.length === 0) return { vip, owner: lease.nodeId, epoch: lease.epoch, target: c.id };
    rejected.push(`${c.id} sees backends down (${worse.join(', ')})`);
  }
  if (others.length === 0) return { reason: `no eligible target for VIP ${vip}: ${lease.nodeId} is the only node` };
  return { reason: `no eligible target for VIP ${vip}: ${rejected.join(', ')}` };
}
