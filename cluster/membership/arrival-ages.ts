/**
 * Ages of values written by other nodes, measured on this node's monotonic
 * clock from when each value arrived (changed), never by comparing the
 * writer's wall clock with this host's: a writer whose clock runs ahead or
 * behind still ages at the right pace. A value seen for the first time
 * counts from that moment (at start, a stale value is fresh for at most one
 * freshness window; the membership check drops the writers that are gone).
 */
export class ArrivalAges {
  readonly #seen = new Map<string, { value: string; atMs: number }>();

  /** Records what `key` holds now; a different value than last time restarts its age. */
  seen(key: string, value: string, nowMs: number): void {
    const prev = this.#seen.get(key);
    if (!prev || prev.value !== value) this.#seen.set(key, { value, atMs: nowMs });
  }

  /** How long `key` has held its value (Infinity when never seen). */
  ageMs(key: string, nowMs: number): number {
    const s = this.#seen.get(key);
    return s ? Math.max(0, nowMs - s.atMs) : Infinity;
  }

  /** Forgets keys not in `keep`. */
  retain(keep: ReadonlySet<string>): void {
    for (const k of this.#seen.keys()) if (!keep.has(k)) this.#seen.delete(k);
  }
}
