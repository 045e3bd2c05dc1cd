/**
 * The pure VIP ownership machine: its states, the table of legal moves, and
 * the decisions the VipManager asks of it (step down? acquire now?). Time
 * comes in as numbers from a monotonic clock, so tests drive it with
 * ManualClock and no timers.
 *
 *            acquire ok / takeover ok
 *   standby ---> acquiring -------------> owner ---renew refused / deadline--> releasing --> standby
 *      |  \          |  (held, error)       |  \                                  ^
 *      |   \         v                      |   `--handover request--> handing-over
 *      |    `----- standby                  |                      (lease moved) |  (aborted: back to owner)
 *      |                                    v
 *      `--prepare--> receiving --commit--> owner          any state --stop--> stopped
 *                        `--abort / overlap deadline--> standby
 */
import type { TransitionTable } from '../../shared/state-machine';

/** States of one VIP on one node. */
export const VIP_STATES = ['standby', 'acquiring', 'owner', 'handing-over', 'releasing', 'receiving', 'stopped'] as const;
/** One of VIP_STATES. */
export type VipState = typeof VIP_STATES[number];

/** Legal moves; everything else is a bug and throws IllegalTransitionError. */
export const VIP_TRANSITIONS: TransitionTable<VipState> = Object.freeze({
  standby: ['acquiring', 'receiving', 'stopped'],
  acquiring: ['owner', 'releasing', 'standby', 'stopped'],
  owner: ['releasing', 'handing-over', 'stopped'],
  'handing-over': ['owner', 'releasing', 'stopped'],
  releasing: ['standby', 'stopped'],
  receiving: ['owner', 'releasing', 'standby', 'stopped'],
  stopped: [],
});

/** States in which this node believes it owns the VIP (and may serve it). */
export function claimsOwnership(s: VipState): boolean {
  return s === 'owner' || s === 'handing-over';
}

/** Lease timings the decisions need (cluster.lease in the config). */
export interface LeaseTimings {
  ttlMs: number;
  renewIntervalMs: number;
  stepDownMarginMs: number;
  acquirePollMs: number;
  rankDelayMs: number;
}

/**
 * The instant (monotonic ms) at which an owner must have stepped down: the
 * start of its last successful renewal plus the TTL, minus the margin. The
 * renewal's start is used, not its reply, because Redis may have set the
 * expiry any time after the request left; counting from the start is
 * conservative, so the owner always lets go before Redis could let a
 * standby in.
 */
export function stepDownAtMs(lastRenewStartMs: number, t: Pick<LeaseTimings, 'ttlMs' | 'stepDownMarginMs'>): number {
  return lastRenewStartMs + t.ttlMs - t.stepDownMarginMs;
}

/** True when the owner has gone too long without a confirmed renewal. */
export function mustStepDown(nowMs: number, lastRenewStartMs: number, t: Pick<LeaseTimings, 'ttlMs' | 'stepDownMarginMs'>): boolean {
  return nowMs >= stepDownAtMs(lastRenewStartMs, t);
}

/** What a standby does on one poll. */
export type StandbyDecision =
  | { action: 'wait'; why: 'held' | 'ineligible' | 'rank-delay'; retryInMs: number }
  | { action: 'acquire' };

/** Inputs of one standby poll. */
export interface StandbyInput {
  nowMs: number;
  /** Whether the lease is free right now. */
  leaseFree: boolean;
  /** When this node first saw it free in the current free spell (monotonic ms), or null. */
  freeSinceMs: number | null;
  /** Rank among eligible candidates (-1: not eligible). */
  rank: number;
}

/**
 * A free lease is tried at once by the best-ranked candidate; rank k waits
 * k * rankDelayMs after it first saw the lease free, so that the better node
 * normally wins without a race, yet a better node that is silently gone does
 * not keep the VIP down.
 */
export function decideStandby(i: StandbyInput, t: Pick<LeaseTimings, 'rankDelayMs' | 'acquirePollMs'>): StandbyDecision {
  if (i.rank < 0) return { action: 'wait', why: 'ineligible', retryInMs: t.acquirePollMs };
  if (!i.leaseFree) return { action: 'wait', why: 'held', retryInMs: t.acquirePollMs };
  const delay = i.rank * t.rankDelayMs;
  const since = i.freeSinceMs ?? i.nowMs;
  const waited = i.nowMs - since;
  if (waited >= delay) return { action: 'acquire' };
  return { action: 'wait', why: 'rank-delay', retryInMs: Math.min(t.acquirePollMs, delay - waited) };
}

/** A poll interval with up to ±20 % jitter so that standbys do not poll in lockstep. */
export function jittered(ms: number, random: () => number = Math.random): number {
  return Math.max(1, Math.round(ms * (0.8 + 0.4 * random())));
}
