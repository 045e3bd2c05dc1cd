/**
 * Tokens whose signature and claims were verified, so that a client that
 * reconnects with the same token (every reconnect of a browser tab, every
 * client of a failover's reconnect storm) costs a hash and a map lookup
 * instead of a signature check. Bounded: at most `maxEntries` per route and
 * worker, least recently used dropped first. An entry serves until the
 * earliest of
 *
 *   - `maxTtlMs` after it was verified (monotonic clock),
 *   - a change of the key set it was verified against (the `generation`
 *     the verifier passes: a JWKS refresh that drops or replaces a key
 *     empties the cache; file keys change only with a reload, which builds
 *     a new verifier and so a new cache),
 *
 * and the caller re-checks the time claims (`exp`, `nbf` with the leeway)
 * against the current time on every hit, so a cached token expires exactly
 * when an uncached one would. Only successes are stored: a refusal is
 * never remembered, so a token the verifier cannot yet check (a JWKS
 * still loading, a key not yet published) is tried again next time.
 *
 * Keys are the SHA-256 of the token, so the cache holds no bearer
 * credentials and its keys are 44 characters whatever the token's size.
 */
import { hash } from 'node:crypto';

/** The claims set of a verified token (read-only: cached tokens share it). */
export type JwtPayload = Readonly<Record<string, unknown>>;

/** One verified token. */
interface Entry {
  readonly payload: JwtPayload;
  /** Monotonic ms after which the entry is not used. */
  readonly untilMs: number;
}

/** The cache key of `token`. */
export function tokenDigest(token: string): string {
  return hash('sha256', token, 'base64');
}

/** A bounded LRU of verified tokens (one per route and worker). */
export class VerifiedTokenCache {
  readonly maxEntries: number;
  readonly maxTtlMs: number;
  readonly #map = new Map<string, Entry>();
  #generation = -1;
  /** Lookups answered from the cache, and lookups that were not (tests, status). */
  hits = 0;
  misses = 0;

  constructor(maxEntries: number, maxTtlMs: number) {
    this.maxEntries = maxEntries;
    this.maxTtlMs = maxTtlMs;
  }

  /** Entries held. */
  get size(): number { return this.#map.size; }

  /**
   * The payload verified for `digest` under key set `generation`, or null.
   * A different generation than the entries were stored under empties the
   * cache first; an entry past its TTL is dropped.
   */
  get(digest: string, generation: number, nowMs: number): JwtPayload | null {
    this.#sync(generation);
    const e = this.#map.get(digest);
    if (!e) { this.misses++; return null; }
    this.#map.delete(digest);
    if (e.untilMs <= nowMs) { this.misses++; return null; }
    this.#map.set(digest, e);
    this.hits++;
    return e.payload;
  }

  /**
   * Remembers a token verified against key set `generation`; `validForMs`
   * (time until exp + leeway, or Infinity) caps the TTL. A token verified
   * against a set older than the entries' (the set changed meanwhile) is
   * not stored: generations only grow.
   */
  set(digest: string, payload: JwtPayload, generation: number, nowMs: number, validForMs: number): void {
    if (generation < this.#generation) return;
    this.#sync(generation);
    const ttl = Math.min(this.maxTtlMs, validForMs);
    if (!(ttl > 0)) return;
    this.#map.delete(digest);
    while (this.#map.size >= this.maxEntries) this.#map.delete(this.#map.keys().next().value as string);
    this.#map.set(digest, { payload, untilMs: nowMs + ttl });
  }

  /** Forgets every entry. */
  clear(): void { this.#map.clear(); }

  #sync(generation: number): void {
    if (generation === this.#generation) return;
    this.#map.clear();
    this.#generation = generation;
  }
}
