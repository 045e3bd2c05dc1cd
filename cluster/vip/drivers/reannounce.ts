/**
 * When the owner should re-announce its VIPs (gratuitous ARP / unsolicited
 * NA, driver.announce()): whenever a peer that was not alive in the last
 * membership view is alive now. That is how a healed partition looks from
 * the owner's side, and the segment that rejoins may still hold neighbour
 * entries pointing at the old owner's MAC (with keepalived, clients stayed on
 * the losing host for 24-47 s after about 40% of heals). A peer that merely
 * starts also triggers it; a few spare GARPs cost nothing. Pure: the cluster
 * agent feeds it each membership view.
 */

/** One member as the membership view shows it. */
export interface AliveView { id: string; alive: boolean }

/** Tracks which peers are alive between membership views. */
export class PeerReturnWatch {
  readonly #selfId: string;
  /** Peers alive in the previous view; null before the first view (nothing "returns" at start). */
  #alive: Set<string> | null = null;

  constructor(selfId: string) { this.#selfId = selfId; }

  /** Feeds a membership view; returns the peers alive now that were not alive in the previous one. */
  update(members: readonly AliveView[]): string[] {
    const now = new Set(members.filter((m) => m.alive && m.id !== this.#selfId).map((m) => m.id));
    const before = this.#alive;
    this.#alive = now;
    return before === null ? [] : [...now].filter((id) => !before.has(id));
  }
}
