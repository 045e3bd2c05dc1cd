/**
 * Keys from a JWKS URL: fetched with a timeout, kept, refreshed in the
 * background every `refreshIntervalMs`, and on a token whose `kid` is not
 * in the set, refreshed at most once per `unknownKidRefreshMs` (so a flood
 * of made-up kids costs one fetch per interval, not one per handshake).
 * A failed fetch (timeout, refused, non-200, bad JSON, no usable key)
 * keeps the last good set; before any good set exists, tokens fail with
 * `token-unknown-key` while handshakes wait at most one fetch.
 *
 *   start ── fetch ──ok──> keys ──every refreshIntervalMs──> fetch ──fail──> keep keys, warn
 *                                 └─ unknown kid, last fetch older than unknownKidRefreshMs ──> fetch
 *
 * `generation` counts the changes of the set: a fetch that brings the same
 * keys keeps the same key objects, already imported, and the same
 * generation (so the verifier's cache of verified tokens survives a routine
 * refresh); one that adds, drops or replaces a key bumps it (and the
 * verifier's cache is emptied). A new key is imported (jose's importJWK)
 * once, during the fetch that brought it, before it serves.
 */
import type { Logger } from 'pino';
import type { JwksConfig } from '../../shared/config/edge-schema';
import { keyFromJwk, type Jwk, type VerifyKey } from './key-set';

/** Largest JWKS document read. */
const MAX_JWKS_BYTES = 1 << 20;

/** How a JWKS document is fetched (injectable for tests). */
export type JwksFetch = (url: string, timeoutMs: number) => Promise<unknown>;

/** Fetches JSON with global fetch and an abort timeout. */
export const defaultJwksFetch: JwksFetch = async (url, timeoutMs) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' }, redirect: 'error' });
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  const text = await res.text();
  if (text.length > MAX_JWKS_BYTES) throw new Error('document too large');
  return JSON.parse(text);
};

/** One JWKS endpoint's keys. */
export class JwksSource {
  readonly config: JwksConfig;
  #keys: readonly VerifyKey[] = [];
  #inFlight: Promise<void> | null = null;
  /** Monotonic ms of the last fetch attempt (good or bad), -Infinity before the first. */
  #lastAttemptMs = -Infinity;
  #timer: NodeJS.Timeout | null = null;
  readonly #log: Logger;
  readonly #fetch: JwksFetch;
  /** Fetches since start and failed ones (status, tests). */
  fetches = 0;
  failures = 0;
  /** Wall-clock ms of the last good fetch, or 0. */
  lastGoodAt = 0;
  /** Bumped whenever a good fetch changes the key set. */
  generation = 0;

  constructor(config: JwksConfig, log: Logger, fetchImpl: JwksFetch = defaultJwksFetch) {
    this.config = config;
    this.#log = log.child({ jwks: config.url });
    this.#fetch = fetchImpl;
  }

  /** Keys of the last good fetch. */
  get keys(): readonly VerifyKey[] { return this.#keys; }

  /** Fetches now and refreshes every refreshIntervalMs (idempotent). */
  start(): void {
    if (this.#timer) return;
    void this.refresh();
    this.#timer = setInterval(() => { void this.refresh(); }, this.config.refreshIntervalMs);
    this.#timer.unref();
  }

  /** Stops the background refresh. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Resolves when the fetch in flight (if any) is done; never rejects. */
  settled(): Promise<void> { return this.#inFlight ?? Promise.resolve(); }

  /** A kid was not found: refresh unless one was tried within unknownKidRefreshMs; resolves once the set is as fresh as allowed. */
  refreshForUnknownKid(): Promise<void> {
    if (this.#inFlight) return this.#inFlight;
    if (performance.now() - this.#lastAttemptMs < this.config.unknownKidRefreshMs) return Promise.resolve();
    return this.refresh();
  }

  /** Fetches the set once (joins a fetch in flight). Never rejects. */
  refresh(): Promise<void> {
    this.#inFlight ??= this.#fetchOnce().finally(() => { this.#inFlight = null; });
    return this.#inFlight;
  }

  async #fetchOnce(): Promise<void> {
    this.#lastAttemptMs = performance.now();
    this.fetches++;
    try {
      const doc = await this.#fetch(this.config.url, this.config.timeoutMs);
      const list = (doc as { keys?: unknown }).keys;
      if (!Array.isArray(list)) throw new Error('no "keys" list');
      const fresh = list.map((k) => keyFromJwk(k as Jwk)).filter((k): k is VerifyKey => k !== null);
      if (!fresh.length) throw new Error('no RSA (at least 2048 bits), EC P-256 or Ed25519 signing key');
      const before = new Map(this.#keys.map((k) => [k.fingerprint, k]));
      // Keys held before keep their imported key objects; new ones are imported (by jose) once, here, before they serve.
      const imported = await Promise.all(fresh.map(async (k) => {
        const held = before.get(k.fingerprint);
        if (held) return held;
        try { await k.key(); return k; } catch (err) {
          this.#log.warn({ kid: k.kid, err: (err as Error).message }, 'jwks key not imported: skipped');
          return null;
        }
      }));
      const keys = imported.filter((k): k is VerifyKey => k !== null);
      if (!keys.length) throw new Error('no key could be imported');
      const changed = keys.length !== this.#keys.length || keys.some((k, i) => k !== this.#keys[i]);
      const kidsBefore = new Set(this.#keys.map((k) => k.kid));
      const added = keys.filter((k) => !kidsBefore.has(k.kid)).map((k) => k.kid);
      this.#keys = keys;
      this.lastGoodAt = Date.now();
      if (changed) this.generation++;
      if (added.length) this.#log.info({ kids: keys.map((k) => k.kid), added }, 'jwks keys loaded');
    } catch (err) {
      this.failures++;
      this.#log.warn({ err: (err as Error).message, keptKeys: this.#keys.length }, 'jwks fetch failed: keeping the last good key set');
    }
  }
}
