/**
 * Pure merge of the observations of all nodes into the verdict that routing
 * uses. Only fresh observations count (written within the freshness window,
 * by a node not known to be dead), so a node that died stops voting once its
 * last observation ages out. The rule is configurable
 * (`cluster.health.verdict`):
 *
 * - `any`:      down when any fresh observer says down (cautious);
 * - `majority`: down when more than half of the fresh observers say down
 *               (a tie stays up);
 * - `all`:      down only when every fresh observer says down (tolerant).
 *
 * With no fresh observation at all the verdict is `unknown`, which routing
 * treats as up (nothing says otherwise). No I/O, no clock of its own.
 */
import type { HealthObservation } from '../../shared/records';

/** How fresh observations combine. */
export type VerdictRule = 'any' | 'majority' | 'all';

/** Merged verdict of one backend. */
export type VerdictState = 'up' | 'down' | 'unknown';

/** The merge result, with the counts behind it (for logs and `wsha status`). */
export interface MergedVerdict {
  state: VerdictState;
  /** Fresh observers counted. */
  observers: number;
  /** Fresh observers that said down. */
  downVotes: number;
  /** Reason given by one of the down voters (the most recent), when down. */
  reason?: string;
}

/** Inputs of the merge besides the observations. */
export interface MergeOptions {
  rule: VerdictRule;
  /** How old an observation is, on the merging node's own clock (from when it arrived there). */
  ageMs: (o: HealthObservation) => number;
  /** Observations older than this (ms) are ignored. */
  freshMs: number;
  /** Optional liveness filter: observations of nodes known dead are ignored. */
  isNodeAlive?: (nodeId: string) => boolean;
}

/** True when `o` counts under `opts`. */
export function isFresh(o: HealthObservation, opts: MergeOptions): boolean {
  if (opts.ageMs(o) > opts.freshMs) return false;
  return opts.isNodeAlive ? opts.isNodeAlive(o.nodeId) : true;
}

/** Decides down or up from vote counts under a rule. */
export function decide(rule: VerdictRule, observers: number, downVotes: number): VerdictState {
  if (observers === 0) return 'unknown';
  switch (rule) {
    case 'any': return downVotes > 0 ? 'down' : 'up';
    case 'majority': return downVotes * 2 > observers ? 'down' : 'up';
    case 'all': return downVotes === observers ? 'down' : 'up';
  }
}

/** Merges the observations of one backend (at most one per node: the latest wins). */
export function mergeVerdict(observations: Iterable<HealthObservation>, opts: MergeOptions): MergedVerdict {
  const latest = new Map<string, HealthObservation>();
  for (const o of observations) {
    const prev = latest.get(o.nodeId);
    if (!prev || prev.at < o.at) latest.set(o.nodeId, o);
  }
  let observers = 0;
  let downVotes = 0;
  let reason: string | undefined;
  let reasonAt = -Infinity;
  for (const o of latest.values()) {
    if (!isFresh(o, opts)) continue;
    observers++;
    if (!o.up) {
      downVotes++;
      if (o.at > reasonAt) { reasonAt = o.at; reason = o.reason ? `${o.nodeId}: ${o.reason}` : `${o.nodeId}: down`; }
    }
  }
  const state = decide(opts.rule, observers, downVotes);
  return state === 'down' ? { state, observers, downVotes, reason } : { state, observers, downVotes };
}

/** Parses one stored observation; null when malformed (a bad value never breaks the merge). */
export function parseObservation(json: string): HealthObservation | null {
  try {
    const o = JSON.parse(json) as HealthObservation;
    if (typeof o?.nodeId !== 'string' || typeof o.up !== 'boolean' || typeof o.at !== 'number') return null;
    return o;
  } catch {
    return null;
  }
}
