/**
 * Closes tunnels whose token expires (routes[].auth.jwt.closeAtExpiry),
 * with 1008 and the reason "token expired", through the tunnel's own close
 * (at a frame boundary in both directions). Tunnels sit in buckets of
 * EXPIRY_TICK_MS by due time and one timer walks the due buckets, so a
 * million tunnels cost one timer, not a million (undici-style coarse timers).
 */

/** What the closer closes. */
export interface Expiring {
  /** Wall-clock ms when the tunnel must close; 0 for never. */
  readonly expiresAtMs: number;
  /** Bucket key, owned by the closer (0 when not scheduled). */
  expiryKey: number;
  closeExpired(): void;
}

/** Granularity of expiry closes. */
export const EXPIRY_TICK_MS = 250;

/** The closer of one node. */
export class ExpiryCloser {
  readonly #buckets = new Map<number, Set<Expiring>>();
  #timer: NodeJS.Timeout | null = null;
  readonly #now: () => number;
  /** Tunnels closed for expiry so far. */
  closed = 0;

  constructor(nowMs: () => number = Date.now) { this.#now = nowMs; }

  /** Schedules `t` (idempotent; a tunnel without expiry is ignored). */
  add(t: Expiring): void {
    if (t.expiresAtMs <= 0 || t.expiryKey !== 0) return;
    const key = Math.ceil(t.expiresAtMs / EXPIRY_TICK_MS);
    t.expiryKey = key;
    let b = this.#buckets.get(key);
    if (!b) { b = new Set(); this.#buckets.set(key, b); }
    b.add(t);
    if (this.#timer === null) {
      this.#timer = setInterval(closerOnTick, EXPIRY_TICK_MS, this);
      this.#timer.unref();
    }
    // Already due (the token expired during the handshake): at the next tick.
  }

  /** Unschedules `t` (closed for another reason). */
  remove(t: Expiring): void {
    const key = t.expiryKey;
    if (key === 0) return;
    t.expiryKey = 0;
    const b = this.#buckets.get(key);
    if (!b) return;
    b.delete(t);
    if (b.size === 0) this.#buckets.delete(key);
  }

  /** Scheduled tunnels. */
  get size(): number { let n = 0; for (const b of this.#buckets.values()) n += b.size; return n; }

  /** Closes what is due; exposed for tests. */
  tick(): void {
    const nowKey = Math.floor(this.#now() / EXPIRY_TICK_MS);
    for (const [key, b] of this.#buckets) {
      if (key > nowKey) continue;
      this.#buckets.delete(key);
      for (const t of b) {
        t.expiryKey = 0;
        this.closed++;
        try { t.closeExpired(); } catch { /* one tunnel's close must not stop the others */ }
      }
    }
    if (this.#buckets.size === 0 && this.#timer !== null) { clearInterval(this.#timer); this.#timer = null; }
  }

  /** Stops the timer (node destroyed). */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#buckets.clear();
  }
}

function closerOnTick(c: ExpiryCloser): void { c.tick(); }
