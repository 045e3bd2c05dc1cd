/**
 * The pure VIP ownership machine: its states, the table of legal moves, and
 * the one decision a standby makes on every look at a VIP. Time comes in as
 * numbers from a monotonic clock and evidence as plain values, so tests
 * drive it with no timers, sockets or Redis. The rules it encodes are the
 * tables of deploy/docs/ownership.md; the states are the same names.
 *
 *               acquire / takeover ok
 *   standby ---> acquiring ------------> owner <------------- reasserting
 *    |   ^          |  (held, failed)     |  |  (authority lapsed   ^  |
 *    |   '----------'                     |  |   while stalled) ----'  | (refused, timed out)
 *    |                                    |  '--> handing-off          v
 *    '--prepare--> receiving --commit--> owner      |          stepping-down --> standby
 *                     '-- abort --------------------+--------------->'
 *   (any state) --stop--> stopped
 */
import type { TransitionTable } from '../../shared/state-machine';
import type { KernelVerdict } from '../peer/peer-mesh';
import type { LeaseValue } from './lease';

/** States of one VIP on one node. */
export const VIP_STATES = ['standby', 'acquiring', 'owner', 'reasserting', 'handing-off', 'receiving', 'stepping-down', 'stopped'] as const;
/** One of VIP_STATES. */
export type VipState = typeof VIP_STATES[number];

/** Legal moves; everything else is a bug and throws IllegalTransitionError. */
export const VIP_TRANSITIONS: TransitionTable<VipState> = Object.freeze({
  standby: ['acquiring', 'receiving', 'stopped'],
  acquiring: ['owner', 'standby', 'stopped'],
  owner: ['reasserting', 'handing-off', 'stepping-down', 'stopped'],
  reasserting: ['owner', 'stepping-down', 'stopped'],
  'handing-off': ['owner', 'stepping-down', 'stopped'],
  receiving: ['owner', 'stepping-down', 'stopped'],
  'stepping-down': ['standby', 'stopped'],
  stopped: [],
});

/** States in which this node believes it owns the VIP (and may serve it). */
export function claimsOwnership(s: VipState): boolean {
  return s === 'owner' || s === 'handing-off';
}

/** States in which this node must refuse to grant another node a peer lease: it holds, wants or is taking the VIP. */
export function refusesGrants(s: VipState): boolean {
  return s === 'owner' || s === 'handing-off' || s === 'reasserting' || s === 'acquiring' || s === 'receiving';
}

/** Lease timings the decisions need (cluster.lease and cluster.peer in the config). */
export interface OwnershipTimings {
  ttlMs: number;
  renewIntervalMs: number;
  stepDownMarginMs: number;
  acquirePollMs: number;
  rankDelayMs: number;
  stallBudgetMs: number;
  guardLeadMs: number;
  grantTtlMs: number;
  beatIntervalMs: number;
  forgetAfterMs: number;
}

/** What a standby knows about the node that last held the VIP. */
export interface HolderEvidence {
  /** When its incarnation was proven dead (closed link, refused reconnect, no lease connection in Redis), or null. */
  provenDeadAtMs: number | null;
  /** When the link to that incarnation closed (monotonic), with the proof. */
  lostAtMs: number | null;
  /** A beat from it, newer than the last time the lease was seen held, says it does not claim the VIP. */
  saysNotClaiming: boolean;
  /** Kernel probes of its host since its process went quiet. */
  kernel: KernelVerdict;
  /** Arrival of the last message from its process (monotonic), or null. */
  lastSignMs: number | null;
  /**
   * This node's id is among the peers the holder last published (the holder would have needed this node's grant),
   * a link with it was up, or nobody could have granted it anything (it published no peers and the membership
   * holds only it and this node).
   */
  knowsMe: boolean;
  /** Age of its last heartbeat on Redis's clock, or null when none is left. */
  heartbeatAgeMs: number | null;
}

/** Everything one standby decision looks at. */
export interface StandbyView {
  nowMs: number;
  /** Eligible (alive, ready, not drained) and its rank among the candidates (0 best; -1 not eligible). */
  rank: number;
  selfId: string;
  /** The lease as last read from Redis, and its remaining TTL. */
  holder: LeaseValue | null;
  holderTtlMs: number;
  /** The last holder this node knows of while the lease is free (expired, released or lost), or null if none ever. */
  lastHolder: LeaseValue | null;
  /** The last change recorded for the VIP was a release (not an expiry). */
  released: boolean;
  /** When this node first saw the lease free in the current free spell. */
  freeSinceMs: number | null;
  /** A peer lease this node granted and that has not run out (dropped when its holder is proven dead). */
  promise: { holder: string; epoch: number; untilMs: number } | null;
  /** No acquisition of a free lease before this instant (after start or a Redis reconnect). */
  quietUntilMs: number;
  /** A linked peer that claims the VIP in a fresh beat, though Redis shows no lease (Redis came back empty). */
  claimedByPeer: string | null;
  evidence: HolderEvidence;
}

/** What a standby does now. */
export type StandbyDecision =
  | { action: 'wait'; why: WaitReason; retryInMs: number }
  | { action: 'acquire'; why: string }
  | { action: 'takeover'; why: string }
  | { action: 'release-own' };

/** Why a standby waits; logged with the evidence whenever it changes. */
export type WaitReason = 'ineligible' | 'held' | 'quiet' | 'promised' | 'rank-delay' | 'claimed-by-peer' | 'unknown-to-holder' | 'holder-stalled';

/**
 * The standby's rule (deploy/docs/ownership.md, "Taking a VIP"):
 * - a held lease is taken over only from a holder proven dead, and only if
 *   nobody renewed it since the link to the holder closed;
 * - a free lease is taken at once when it was released or never held, or
 *   its last holder is proven dead or says it does not claim it;
 * - otherwise (it expired) only once the holder cannot be serving: its host
 *   is silent (kernel probes unanswered), or its process has been silent for
 *   the whole stall budget plus the guard's lead;
 * - never while this node's own peer grant runs, during the quiet period,
 *   or before the better-ranked candidates had their turn;
 * - a node the holder never counted on waits until the holder is forgotten
 *   (its heartbeat is older than forgetAfterMs, or gone).
 */
export function decideStandby(v: StandbyView, t: OwnershipTimings): StandbyDecision {
  if (v.rank < 0) return { action: 'wait', why: 'ineligible', retryInMs: t.acquirePollMs };
  const rankWait = v.rank * t.rankDelayMs;
  if (v.holder) {
    if (v.holder.nodeId === v.selfId) return { action: 'release-own' };
    const e = v.evidence;
    if (e.provenDeadAtMs !== null) {
      // Renewed after the link closed (its remaining TTL is longer than what was left then): someone keeps that
      // lease alive (a granter, on behalf of an owner still alive behind a partition): no takeover, the lease decides.
      if (e.lostAtMs !== null && v.holderTtlMs > t.ttlMs - (v.nowMs - e.lostAtMs) + RENEWED_SLACK_MS) return { action: 'wait', why: 'held', retryInMs: t.acquirePollMs };
      const waited = v.nowMs - e.provenDeadAtMs;
      if (waited < rankWait) return { action: 'wait', why: 'rank-delay', retryInMs: rankWait - waited };
      return { action: 'takeover', why: 'holder-dead' };
    }
    // Look again when the lease runs out (a silent holder's lease is taken the moment it expires), or at the next poll.
    return { action: 'wait', why: 'held', retryInMs: Math.max(1, Math.min(t.acquirePollMs, v.holderTtlMs + 1)) };
  }
  if (v.nowMs < v.quietUntilMs) return { action: 'wait', why: 'quiet', retryInMs: Math.max(1, v.quietUntilMs - v.nowMs) };
  if (v.promise && v.nowMs < v.promise.untilMs) return { action: 'wait', why: 'promised', retryInMs: Math.max(1, Math.min(t.acquirePollMs, v.promise.untilMs - v.nowMs)) };
  if (v.claimedByPeer) return { action: 'wait', why: 'claimed-by-peer', retryInMs: t.acquirePollMs };
  const since = v.freeSinceMs ?? v.nowMs;
  const waited = v.nowMs - since;
  if (waited < rankWait) return { action: 'wait', why: 'rank-delay', retryInMs: Math.min(t.acquirePollMs, rankWait - waited) };
  const last = v.lastHolder;
  if (!last) return { action: 'acquire', why: 'lease-free' };
  if (v.released) return { action: 'acquire', why: 'lease-released' };
  if (last.nodeId === v.selfId) return { action: 'acquire', why: 'lease-expired' };
  const e = v.evidence;
  if (e.provenDeadAtMs !== null) return { action: 'acquire', why: 'holder-dead' };
  if (e.saysNotClaiming) return { action: 'acquire', why: 'holder-not-claiming' };
  if (!e.knowsMe && e.heartbeatAgeMs !== null && e.heartbeatAgeMs < t.forgetAfterMs) return { action: 'wait', why: 'unknown-to-holder', retryInMs: t.acquirePollMs * 10 };
  if (e.kernel === 'silent') return { action: 'acquire', why: 'holder-host-silent' };
  const quietSince = Math.max(e.lastSignMs ?? -Infinity, since - t.ttlMs);
  const readyAt = quietSince + t.stallBudgetMs + t.guardLeadMs;
  if (v.nowMs >= readyAt) return { action: 'acquire', why: 'holder-stall-budget-spent' };
  return { action: 'wait', why: 'holder-stalled', retryInMs: Math.max(1, Math.min(t.acquirePollMs, readyAt - v.nowMs)) };
}

/** A renewal in flight when the owner died may land this much after its link closed. */
const RENEWED_SLACK_MS = 15;

/** A poll interval with up to ±20 % jitter so that standbys do not poll in lockstep. */
export function jittered(ms: number, random: () => number = Math.random): number {
  return Math.max(1, Math.round(ms * (0.8 + 0.4 * random())));
}
