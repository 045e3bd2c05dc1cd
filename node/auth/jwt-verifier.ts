/**
 * Verifies one route's JWTs: the compact form taken apart (jws-compact.ts),
 * the signature checked with a key from the route's files, secret or JWKS
 * (unknown `kid` -> one rate-limited JWKS refresh) by node:crypto, then
 * `exp`, `nbf`, `iss` and `aud` with the configured leeway. Every failure
 * is an AuthenticationError whose `reason` is a short label for metrics
 * and logs (token-expired, token-signature, ...).
 *
 * A token verified once is remembered (token-cache.ts) until the earliest
 * of its expiry, `cacheMaxTtlMs` and a change of the key set; on a hit only
 * the time claims are checked again, against the current time.
 *
 *   token ── digest ──hit (same key set, within TTL)──> exp/nbf now? ──> ok
 *                  └─miss──> split ─> alg allowed? ─> key ─> signature ─> claims ─> exp/nbf ─> cache, ok
 */
import type { Logger } from 'pino';
import type { JwtConfig } from '../../shared/config/edge-schema';
import { AuthenticationError } from '../../shared/errors';
import { keyFromSecretFile, keysFromFile, pickKey, type VerifyKey } from './key-set';
import { JwksSource, type JwksFetch } from './jwks-source';
import { checkStaticClaims, checkTimeClaims, decodePayload, expiresAtMsOf, splitCompact, type ClaimRules, type JwsHeader, type JwtPayload } from './jws-compact';
import { tokenDigest, VerifiedTokenCache } from './token-cache';

/** A verified token. */
export interface VerifiedToken {
  payload: JwtPayload;
  /** Wall-clock ms after which the token is no longer accepted (exp + leeway), or 0 without exp. */
  expiresAtMs: number;
}

/** Longest token accepted (a header line is bounded by limits.maxHeaderBytes anyway). */
const MAX_TOKEN_CHARS = 8192;

/** Clocks a verifier reads (injectable for tests). */
export interface VerifierClocks {
  /** Wall clock, ms since the epoch (exp and nbf). */
  wallMs(): number;
  /** Monotonic ms (cache TTL). */
  monoMs(): number;
}

const SYSTEM_CLOCKS: VerifierClocks = { wallMs: () => Date.now(), monoMs: () => performance.now() };

/** One route's JWT verification. */
export class JwtVerifier {
  readonly config: JwtConfig;
  /** Keys read from files at config time (immutable until the next reload). */
  readonly #fileKeys: readonly VerifyKey[];
  readonly jwks: JwksSource | null;
  readonly #algorithms: ReadonlySet<string>;
  readonly #rules: ClaimRules;
  /** Verified tokens, or null with `cacheEntries: 0`. */
  readonly cache: VerifiedTokenCache | null;
  readonly #clocks: VerifierClocks;

  /** Reads key files now (KeyLoadError on a bad one); `jwks` may be an existing source reused across a reload. */
  constructor(config: JwtConfig, log: Logger, opts: { jwks?: JwksSource | null; fetch?: JwksFetch; clocks?: VerifierClocks } = {}) {
    this.config = config;
    const keys: VerifyKey[] = [];
    for (const f of config.keyFiles ?? []) keys.push(...keysFromFile(f));
    if (config.secretFile) keys.push(keyFromSecretFile(config.secretFile));
    this.#fileKeys = keys;
    this.jwks = config.jwks ? (opts.jwks ?? new JwksSource(config.jwks, log, opts.fetch)) : null;
    this.#algorithms = new Set(config.algorithms);
    const list = (v: string | readonly string[] | undefined) => (v === undefined ? null : typeof v === 'string' ? [v] : [...v]);
    this.#rules = { issuers: list(config.issuer), audiences: list(config.audience), requireExp: config.requireExp, leewayMs: config.leewayMs };
    this.cache = config.cacheEntries > 0 ? new VerifiedTokenCache(config.cacheEntries, config.cacheMaxTtlMs) : null;
    this.#clocks = opts.clocks ?? SYSTEM_CLOCKS;
  }

  /** Starts the JWKS background refresh, if any. */
  start(): void { this.jwks?.start(); }

  /** Stops it. */
  stop(): void { this.jwks?.stop(); }

  /** Verifies `token`; throws AuthenticationError. */
  async verify(token: string): Promise<VerifiedToken> {
    if (token.length > MAX_TOKEN_CHARS) throw new AuthenticationError('token-malformed', 'token too long');
    const leewayMs = this.#rules.leewayMs;
    const digest = this.cache ? tokenDigest(token) : '';
    if (this.cache) {
      const payload = this.cache.get(digest, this.#generation(), this.#clocks.monoMs());
      if (payload) {
        checkTimeClaims(payload, leewayMs, this.#clocks.wallMs());
        return { payload, expiresAtMs: expiresAtMsOf(payload, leewayMs) };
      }
    }
    const parts = splitCompact(token);
    if (!this.#algorithms.has(parts.header.alg)) throw new AuthenticationError('token-algorithm', 'token algorithm not accepted');
    const { key, generation } = await this.#keyFor(parts.header);
    if (!key.verify(parts.signingInput, parts.signature)) throw new AuthenticationError('token-signature', 'token signature invalid');
    const payload = decodePayload(parts.payloadB64);
    checkStaticClaims(payload, this.#rules);
    const nowMs = this.#clocks.wallMs();
    checkTimeClaims(payload, leewayMs, nowMs);
    const expiresAtMs = expiresAtMsOf(payload, leewayMs);
    this.cache?.set(digest, payload, generation, this.#clocks.monoMs(), expiresAtMs ? expiresAtMs - nowMs : Infinity);
    return { payload, expiresAtMs };
  }

  /** Which key set tokens are verified against now (file keys never change within one verifier). */
  #generation(): number { return this.jwks?.generation ?? 0; }

  /** The key for `h`, and the generation of the set it was picked from (read in the same tick). */
  async #keyFor(h: JwsHeader): Promise<{ key: VerifyKey; generation: number }> {
    let k = pickKey(this.#fileKeys, h.kid, h.alg);
    if (k) return { key: k, generation: this.#generation() };
    if (this.jwks) {
      await this.jwks.settled();
      k = pickKey(this.jwks.keys, h.kid, h.alg);
      if (!k) {
        await this.jwks.refreshForUnknownKid();
        k = pickKey(this.jwks.keys, h.kid, h.alg);
      }
    }
    if (!k) throw new AuthenticationError('token-unknown-key', h.kid ? `no key with kid ${JSON.stringify(h.kid).slice(0, 80)} for ${h.alg}` : `no key for ${h.alg}`);
    return { key: k, generation: this.#generation() };
  }
}
