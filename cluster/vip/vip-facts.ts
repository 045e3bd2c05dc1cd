/**
 * What one VIP machine has learnt, whatever state it is in: the highest
 * epoch seen (the floor of the next one, even if Redis lost its data), the
 * last lease reading, the last holder and when the lease was last seen held,
 * the peer grant this node gave (its promise not to acquire), and the quiet
 * period after a start or a Redis reconnect. Owned by the machine; states
 * read and update it through these methods only.
 */
import type { LeaseReading, LeaseValue } from './lease';

/** A peer lease this node granted: it does not acquire the VIP before `untilMs`. */
export interface PeerPromise { holder: string; epoch: number; untilMs: number }

export class VipFacts {
  maxEpochSeen = 0;
  /** The last lease reading and when it was taken (monotonic). */
  reading: LeaseReading | null = null;
  readAtMs = -Infinity;
  /** The last holder seen in Redis by this node, and when (monotonic). */
  lastSeenHolder: LeaseValue | null = null;
  heldSeenAtMs = -Infinity;
  /** When this node first saw the lease free in the current free spell. */
  freeSinceMs: number | null = null;
  promise: PeerPromise | null = null;
  /** A holder that Redis says holds a newer epoch than the one a peer asked a grant for (from a maintenance assert). */
  refusal: { epoch: number; holder: LeaseValue | null } | null = null;
  quietUntilMs = 0;
  /** Failed attempts in a row to bring the VIP up on this node (driver or listeners). */
  upFailures = 0;
  /** When each peer was proven dead, and when its link had closed (monotonic), by node id. */
  readonly #deaths = new Map<string, { atMs: number; lostAtMs: number }>();

  /** A peer was proven dead at `atMs` (its link closed at `lostAtMs`): its promise is void. */
  died(id: string, atMs: number, lostAtMs: number): void {
    this.#deaths.set(id, { atMs, lostAtMs });
    this.releasePromiseOf(id);
  }

  /** When `id` was proven dead and its link had closed, or null. */
  deathOf(id: string): { atMs: number; lostAtMs: number } | null { return this.#deaths.get(id) ?? null; }

  /** Records a lease reading taken at `nowMs`. */
  observe(r: LeaseReading, nowMs: number): void {
    this.reading = r;
    this.readAtMs = nowMs;
    this.epochSeen(r.epoch);
    if (r.holder) {
      this.epochSeen(r.holder.epoch);
      this.lastSeenHolder = r.holder;
      this.heldSeenAtMs = nowMs;
      this.freeSinceMs = null;
    } else {
      this.freeSinceMs ??= nowMs;
    }
  }

  /** Raises the epoch floor. */
  epochSeen(epoch: number): void { if (Number.isFinite(epoch) && epoch > this.maxEpochSeen) this.maxEpochSeen = epoch; }

  /** No acquisition of a free lease for `ms` from `nowMs`. */
  quietFor(nowMs: number, ms: number): void { this.quietUntilMs = Math.max(this.quietUntilMs, nowMs + ms); }

  /** Grants `holder` a peer lease until `untilMs` (extends an existing one). */
  promiseTo(holder: string, epoch: number, untilMs: number): void {
    const p = this.promise;
    this.promise = { holder, epoch, untilMs: p && p.untilMs > untilMs ? p.untilMs : untilMs };
  }

  /** Drops the promise to a peer proven dead. */
  releasePromiseOf(holder: string): void { if (this.promise?.holder === holder) this.promise = null; }

  /**
   * The last holder while the lease is free: the node the VIP record names
   * (its lease expired) unless the record says released, else the last
   * holder this node saw (Redis may have come back empty).
   */
  lastHolder(): { holder: LeaseValue | null; released: boolean } {
    const r = this.reading;
    if (r && r.recordOwner === '') return { holder: this.lastSeenHolder, released: true };
    if (r && r.recordOwner) return { holder: { nodeId: r.recordOwner, epoch: r.epoch }, released: false };
    return { holder: this.lastSeenHolder, released: false };
  }
}
