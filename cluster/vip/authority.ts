/**
 * What an owner holds its VIP on, pure: until when Redis backs it (the start
 * of its last acknowledged renewal + ttl - margin) and until when its peers
 * do (for every peer it must count on, the send time of its last beat that
 * peer answered with a grant + grantTtl - margin). The owner may serve until
 * the later of the two; past it, it steps down (or, after a stall of its
 * own, re-asserts first). A node with no peer to ask has Redis alone.
 *
 * Why send times: the granter's promise runs from when it read the beat,
 * which is after it was sent; Redis set the lease's expiry after the renewal
 * was sent. Counting from the send is conservative on both sides, so the
 * owner always lets go before any standby could take the VIP.
 *
 * The guard deadline (the VIP guard takes the address away if the owner's
 * process does not push it forward) is the last instant every standby
 * has seen the owner alive, plus the stall budget: a standby that sees the
 * owner's host answering waits at least that long (ownership.ts).
 */

/** The timings the authority needs. */
export interface AuthorityTimings { ttlMs: number; stepDownMarginMs: number; grantTtlMs: number; stallBudgetMs: number }

/** Where an owner's authority comes from right now. */
export type AuthoritySource = 'redis' | 'peers' | 'both' | 'none';

/** The authority of one owner over one VIP, from the moment it took office. */
export class Authority {
  readonly #t: AuthorityTimings;
  #renewStartMs = -Infinity;
  readonly #granted = new Map<string, number>();
  readonly #answered = new Map<string, number>();

  constructor(t: AuthorityTimings, renewStartMs: number) {
    this.#t = t;
    this.#renewStartMs = renewStartMs;
  }

  /** A renewal (or re-assert) that started at `startMs` was acknowledged. */
  renewed(startMs: number): void { if (startMs > this.#renewStartMs) this.#renewStartMs = startMs; }

  /** `peer` answered the beat sent at `sentAtMs`, with a grant or not. */
  answered(peer: string, sentAtMs: number, granted: boolean): void {
    if (sentAtMs > (this.#answered.get(peer) ?? -Infinity)) this.#answered.set(peer, sentAtMs);
    if (granted && sentAtMs > (this.#granted.get(peer) ?? -Infinity)) this.#granted.set(peer, sentAtMs);
  }

  /** Until when Redis backs the VIP. */
  get redisUntilMs(): number { return this.#renewStartMs + this.#t.ttlMs - this.#t.stepDownMarginMs; }

  /**
   * Until when every peer in `required` backs it. With no peer to ask there
   * is no peer authority at all: a node alone (or whose last peer left) has
   * only Redis, and steps down without it.
   */
  peersUntilMs(required: Iterable<string>): number {
    let min = Infinity;
    let any = false;
    for (const p of required) {
      any = true;
      min = Math.min(min, (this.#granted.get(p) ?? -Infinity) + this.#t.grantTtlMs - this.#t.stepDownMarginMs);
    }
    return any ? min : -Infinity;
  }

  /** Until when the owner may serve. */
  untilMs(required: Iterable<string>): number { return Math.max(this.redisUntilMs, this.peersUntilMs(required)); }

  /** What backs the VIP at `nowMs`. */
  source(nowMs: number, required: Iterable<string>): AuthoritySource {
    const r = nowMs < this.redisUntilMs;
    const p = nowMs < this.peersUntilMs(required);
    return r && p ? 'both' : r ? 'redis' : p ? 'peers' : 'none';
  }

  /** Whether every peer in `required` granted a beat sent at or after `sinceMs` (a re-assert over the peer link). */
  allGrantedSince(required: Iterable<string>, sinceMs: number): boolean {
    for (const p of required) if ((this.#granted.get(p) ?? -Infinity) < sinceMs) return false;
    return true;
  }

  /** The guard deadline: the latest instant all standbys saw the owner alive (renewal or answered beat), plus the stall budget. */
  guardUntilMs(required: Iterable<string>): number {
    let minAnswered = Infinity;
    for (const p of required) minAnswered = Math.min(minAnswered, this.#answered.get(p) ?? -Infinity);
    const seen = Math.max(this.#renewStartMs, Number.isFinite(minAnswered) ? minAnswered : -Infinity);
    return seen + this.#t.stallBudgetMs;
  }

  /** Start of the last acknowledged renewal (for logs). */
  get lastRenewStartMs(): number { return this.#renewStartMs; }
}
