/**
 * Verifies one route's JWTs with jose (jwtVerify): the signature with a key
 * from the route's files, secret or JWKS (unknown `kid` -> one rate-limited
 * JWKS refresh), imported once per key set (key-set.ts), only under the
 * configured `algorithms`, then `exp`, `nbf`, `iss` and `aud` with the
 * configured leeway. Every failure is an AuthenticationError whose `reason`
 * is a short label for metrics and logs (token-expired, token-signature, ...).
 *
 * A token verified once is remembered (token-cache.ts) until the earliest
 * of its expiry, `cacheMaxTtlMs` and a change of the key set; on a hit jose
 * is not called and only the time claims are checked again, against the
 * current time and with the same leeway.
 *
 *   token ── digest ──hit (same key set, within TTL)──> exp/nbf now? ──> ok
 *                  └─miss──> jose jwtVerify (alg allowed, key, signature, claims) ──> cache, ok
 */
import type { Logger } from 'pino';
import type { JWTVerifyOptions, JWSHeaderParameters, VerificationKey } from './jose-module';
import type { JwtConfig } from '../../shared/config/edge-schema';
import { AuthenticationError } from '../../shared/errors';
import { jose, preloadJose } from './jose-module';
import { keyFromSecretFile, keysFromFile, pickKey, type VerifyKey } from './key-set';
import { JwksSource, type JwksFetch } from './jwks-source';
import { tokenDigest, VerifiedTokenCache, type JwtPayload } from './token-cache';

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
  /** jose's options, except the current time (read per token from the clocks). */
  readonly #options: JWTVerifyOptions;
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
    this.#options = {
      algorithms: [...config.algorithms],
      clockTolerance: config.leewayMs / 1000,
      ...(config.issuer ? { issuer: config.issuer as string | string[] } : {}),
      ...(config.audience ? { audience: config.audience as string | string[] } : {}),
      ...(config.requireExp ? { requiredClaims: ['exp'] } : {}),
    };
    this.cache = config.cacheEntries > 0 ? new VerifiedTokenCache(config.cacheEntries, config.cacheMaxTtlMs) : null;
    this.#clocks = opts.clocks ?? SYSTEM_CLOCKS;
    preloadJose();
    // File keys are imported (once) now, so the first handshake does not wait for it.
    for (const k of keys) k.key().catch(() => {});
  }

  /** Starts the JWKS background refresh, if any. */
  start(): void { this.jwks?.start(); }

  /** Stops it. */
  stop(): void { this.jwks?.stop(); }

  /** Verifies `token`; throws AuthenticationError. */
  async verify(token: string): Promise<VerifiedToken> {
    if (token.length > MAX_TOKEN_CHARS) throw new AuthenticationError('token-malformed', 'token too long');
    const leewayMs = this.config.leewayMs;
    const digest = this.cache ? tokenDigest(token) : '';
    if (this.cache) {
      const payload = this.cache.get(digest, this.#generation(), this.#clocks.monoMs());
      if (payload) {
        checkTimeClaims(payload, leewayMs, this.#clocks.wallMs());
        return { payload, expiresAtMs: expiresAtMsOf(payload, leewayMs) };
      }
    }
    const j = await jose();
    // The generation of the key set the key was picked from (read in the same tick as the pick).
    let generation = this.#generation();
    const nowMs = this.#clocks.wallMs();
    let payload: JwtPayload;
    try {
      const res = await j.jwtVerify(token, async (h: JWSHeaderParameters) => {
        const picked = await this.#keyFor(h);
        generation = picked.generation;
        return picked.key;
      }, { ...this.#options, currentDate: new Date(nowMs) });
      payload = Object.freeze(res.payload);
    } catch (err) {
      throw err instanceof AuthenticationError ? err : toAuthError(err as Error & { code?: string; claim?: string });
    }
    const expiresAtMs = expiresAtMsOf(payload, leewayMs);
    this.cache?.set(digest, payload, generation, this.#clocks.monoMs(), expiresAtMs ? expiresAtMs - nowMs : Infinity);
    return { payload, expiresAtMs };
  }

  /** Which key set tokens are verified against now (file keys never change within one verifier). */
  #generation(): number { return this.jwks?.generation ?? 0; }

  /** The key for `h` (as jose verifies with it), and the generation of the set it was picked from. */
  async #keyFor(h: JWSHeaderParameters): Promise<{ key: VerificationKey; generation: number }> {
    const alg = h.alg ?? '';
    if (h.kid !== undefined && typeof h.kid !== 'string') throw new AuthenticationError('token-malformed', 'token malformed');
    let k = pickKey(this.#fileKeys, h.kid, alg);
    let generation = this.#generation();
    if (!k && this.jwks) {
      await this.jwks.settled();
      k = pickKey(this.jwks.keys, h.kid, alg);
      generation = this.#generation();
      if (!k) {
        await this.jwks.refreshForUnknownKid();
        k = pickKey(this.jwks.keys, h.kid, alg);
        generation = this.#generation();
      }
    }
    if (!k) throw new AuthenticationError('token-unknown-key', h.kid ? `no key with kid ${JSON.stringify(h.kid).slice(0, 80)} for ${alg}` : `no key for ${alg}`);
    let key: VerificationKey;
    try { key = await k.key(); } catch { throw new AuthenticationError('token-unknown-key', `no usable key for ${alg} (import failed)`); }
    return { key, generation };
  }
}

/**
 * Checks `exp` and `nbf` of a cached token against `nowMs` (wall clock)
 * with the leeway, as jose did when it verified the token: good from
 * nbf - leeway until exp + leeway (excluded).
 */
function checkTimeClaims(p: JwtPayload, leewayMs: number, nowMs: number): void {
  if (typeof p.nbf === 'number' && p.nbf * 1000 > nowMs + leewayMs) throw new AuthenticationError('token-not-yet-valid', 'token not yet valid');
  if (typeof p.exp === 'number' && nowMs >= p.exp * 1000 + leewayMs) throw new AuthenticationError('token-expired', 'token expired');
}

/** Wall-clock ms after which `p` is no longer accepted (exp + leeway), or 0 without exp. */
function expiresAtMsOf(p: JwtPayload, leewayMs: number): number {
  return typeof p.exp === 'number' ? p.exp * 1000 + leewayMs : 0;
}

/** Maps a jose error to an AuthenticationError with a reason label. */
export function toAuthError(err: Error & { code?: string; claim?: string }): AuthenticationError {
  switch (err.code) {
    case 'ERR_JWT_EXPIRED': return new AuthenticationError('token-expired', 'token expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (err.claim === 'nbf') return new AuthenticationError('token-not-yet-valid', 'token not yet valid');
      if (err.claim === 'iss') return new AuthenticationError('token-issuer', 'token issuer not accepted');
      if (err.claim === 'aud') return new AuthenticationError('token-audience', 'token audience not accepted');
      return new AuthenticationError('token-claims', `token claim ${err.claim ?? ''} invalid`.trim());
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED': return new AuthenticationError('token-signature', 'token signature invalid');
    case 'ERR_JOSE_ALG_NOT_ALLOWED': return new AuthenticationError('token-algorithm', 'token algorithm not accepted');
    default: return new AuthenticationError('token-malformed', 'token malformed');
  }
}
