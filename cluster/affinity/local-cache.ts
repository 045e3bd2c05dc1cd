/**
 * This node's own memory of sessions: the backend each was last sent to
 * (bounded, least recently used dropped first) and how many connections of
 * each are open here (those are the ones whose TTL this node refreshes).
 */

interface Entry { pool: string; key: string; backendId: string; open: number; /** Monotonic ms of the last confirmed write to Redis (-Infinity: none). */ writtenAtMs: number }

/** Bounded LRU of session -> backend with open-connection counts. */
export class LocalSessionCache {
  readonly #map = new Map<string, Entry>();
  constructor(readonly max: number) {}

  static id(pool: string, key: string): string { return `${pool}\u0000${key}`; }

  get size(): number { return this.#map.size; }

  /** The backend last recorded for the session here, or null. */
  get(pool: string, key: string): string | null {
    return this.#map.get(LocalSessionCache.id(pool, key))?.backendId ?? null;
  }

  /** Records a connection of the session to `backendId` (moves it to the young end). */
  open(pool: string, key: string, backendId: string): void {
    const id = LocalSessionCache.id(pool, key);
    const e = this.#map.get(id);
    this.#map.delete(id);
    const writtenAtMs = e && e.backendId === backendId ? e.writtenAtMs : -Infinity;
    this.#map.set(id, { pool, key, backendId, open: (e?.open ?? 0) + 1, writtenAtMs });
    if (this.#map.size > this.max) this.#evictOne();
  }

  /** True when the mapping was confirmed in Redis within the last `withinMs` (a write can be skipped). */
  writtenRecently(pool: string, key: string, nowMs: number, withinMs: number): boolean {
    const e = this.#map.get(LocalSessionCache.id(pool, key));
    return e !== undefined && nowMs - e.writtenAtMs < withinMs;
  }

  /** Notes a confirmed write of the session's current backend. */
  markWritten(pool: string, key: string, backendId: string, nowMs: number): void {
    const e = this.#map.get(LocalSessionCache.id(pool, key));
    if (e && e.backendId === backendId) e.writtenAtMs = nowMs;
  }

  /** One connection of the session closed. */
  close(pool: string, key: string): void {
    const e = this.#map.get(LocalSessionCache.id(pool, key));
    if (e && e.open > 0) e.open--;
  }

  /** Sessions with at least one open connection here. */
  *active(): IterableIterator<Entry> {
    for (const e of this.#map.values()) if (e.open > 0) yield e;
  }

  /** Drops the oldest closed session, or the oldest of all when every one is open. */
  #evictOne(): void {
    let n = 0;
    for (const [id, e] of this.#map) {
      if (e.open === 0) { this.#map.delete(id); return; }
      if (++n > 64) break; // bounded scan: fall through to the oldest
    }
    this.#map.delete(this.#map.keys().next().value as string);
  }
}
