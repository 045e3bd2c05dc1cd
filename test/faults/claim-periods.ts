/**
 * Claim periods from the snapshots each node gives of itself: a node claims
 * the VIP from `claimChangedAt` on, for as long as its answers say
 * `claims: true`. Each process incarnation (node id + pid) has its own
 * periods, so a restarted node never stretches the period of the process
 * that was killed.
 *
 * A node that is cut off or stopped does not answer; its period is then
 * known again from its next answer: still claiming with the same
 * `claimChangedAt` (it claimed throughout), or `claims: false` with
 * `claimChangedAt` the instant it stopped claiming (the period ends there,
 * even if nobody saw that instant). A killed process's period ends at its
 * last answer. This generalises test/harness/ownership-sampler.ts, which
 * only records answers that claim.
 */
import type { Span } from './timeline';

/**
 * What the tracker needs of one answered poll. `claimUntil` (optional; not
 * in today's snapshot) is the wall-clock instant up to which the node holds
 * its claim valid on its own clock (its step-down deadline): a node that then
 * went silent claimed at most until then.
 */
export interface ClaimSample { node: string; pid: number; at: number; claims: boolean; claimChangedAt: number; claimUntil?: number }

interface Open { from: number; lastAt: number; until?: number }

/** Tracks claim periods per incarnation; feed every answered poll in order of arrival. */
export class ClaimTracker {
  readonly #open = new Map<string, Open & { node: string }>();
  readonly #closed: Span[] = [];

  /** Records one answered poll; returns true when the node's claim started or ended with it. */
  add(s: ClaimSample): boolean {
    const key = `${s.node}#${s.pid}`;
    const cur = this.#open.get(key);
    if (s.claims) {
      if (cur && cur.from === s.claimChangedAt) { cur.lastAt = Math.max(cur.lastAt, s.at); cur.until = s.claimUntil; return false; }
      // A new period while one was open: the old one ended, unseen, before this one began, and no earlier than its
      // last answer; with a deadline known, a silent node claimed (its workers served) up to that deadline.
      if (cur) this.#closed.push({ who: s.node, from: cur.from, to: Math.min(Math.max(cur.lastAt, cur.until ?? cur.lastAt), s.claimChangedAt) });
      this.#open.set(key, { node: s.node, from: s.claimChangedAt, lastAt: s.at, until: s.claimUntil });
      return true;
    }
    if (!cur) return false;
    const said = Math.max(s.claimChangedAt >= cur.from ? s.claimChangedAt : cur.lastAt, cur.lastAt);
    // Past its own deadline a silent node claimed nothing, whenever it got round to saying so.
    const end = cur.until !== undefined && cur.until >= cur.lastAt ? Math.min(said, cur.until) : said;
    this.#closed.push({ who: s.node, from: cur.from, to: end });
    this.#open.delete(key);
    return true;
  }

  /** Every period so far; open ones end at their last answer. */
  spans(): Span[] {
    return [...this.#closed, ...[...this.#open.values()].map((o) => ({ who: o.node, from: o.from, to: o.lastAt }))];
  }
}
