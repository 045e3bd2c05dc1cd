/**
 * Verifies one route's JWTs with jose: the signature with a key from the
 * route's files, secret or JWKS (unknown `kid` -> one rate-limited JWKS
 * refresh), then `exp`, `nbf`, `iss` and `aud` with the configured leeway.
 * Every failure is an AuthenticationError whose `reason` is a short label
 * for metrics and logs (token-expired, token-signature, ...).
 */
import type { Logger } from 'pino';
import type { JWTPayload, JWTVerifyOptions, JWSHeaderParameters, VerificationKey } from './jose-module';
import type { JwtConfig } from '../../shared/config/edge-schema';
import { AuthenticationError } from '../../shared/errors';
import { jose, preloadJose } from './jose-module';
import { keyFromSecretFile, keysFromFile, pickKey, type VerifyKey } from './key-set';
import { JwksSource, type JwksFetch } from './jwks-source';

/** A verified token. */
export interface VerifiedToken {
  payload: JWTPayload;
  /** Wall-clock ms after which the token is no longer accepted (exp + leeway), or 0 without exp. */
  expiresAtMs: number;
}

/** Longest token accepted (a header line is bounded by limits.maxHeaderBytes anyway). */
const MAX_TOKEN_CHARS = 8192;

/** One route's JWT verification. */
export class JwtVerifier {
  readonly config: JwtConfig;
  /** Keys read from files at config time (immutable until the next reload). */
  readonly #fileKeys: readonly VerifyKey[];
  readonly jwks: JwksSource | null;
  readonly #options: JWTVerifyOptions;

  /** Reads key files now (KeyLoadError on a bad one); `jwks` may be an existing source reused across a reload. */
  constructor(config: JwtConfig, log: Logger, opts: { jwks?: JwksSource | null; fetch?: JwksFetch } = {}) {
    this.config = config;
    const keys: VerifyKey[] = [];
    for (const f of config.keyFiles ?? []) keys.push(...keysFromFile(f));
    if (config.secretFile) keys.push(keyFromSecretFile(config.secretFile));
    this.#fileKeys = keys;
    this.jwks = config.jwks ? (opts.jwks ?? new JwksSource(config.jwks, log, opts.fetch)) : null;
    this.#options = {
      algorithms: [...config.algorithms],
      clockTolerance: Math.floor(config.leewayMs / 1000),
      ...(config.issuer ? { issuer: config.issuer as string | string[] } : {}),
      ...(config.audience ? { audience: config.audience as string | string[] } : {}),
      ...(config.requireExp ? { requiredClaims: ['exp'] } : {}),
    };
    preloadJose();
  }

  /** Starts the JWKS background refresh, if any. */
  start(): void { this.jwks?.start(); }

  /** Stops it. */
  stop(): void { this.jwks?.stop(); }

  /** Verifies `token`; throws AuthenticationError. */
  async verify(token: string): Promise<VerifiedToken> {
    if (token.length > MAX_TOKEN_CHARS) throw new AuthenticationError('token-malformed', 'token too long');
    const j = await jose();
    try {
      const { payload } = await j.jwtVerify(token, (h: JWSHeaderParameters) => this.#keyFor(h), this.#options);
      const expiresAtMs = typeof payload.exp === 'number' ? payload.exp * 1000 + this.config.leewayMs : 0;
      return { payload, expiresAtMs };
    } catch (err) {
      throw err instanceof AuthenticationError ? err : toAuthError(err as Error & { code?: string; claim?: string });
    }
  }

  async #keyFor(h: JWSHeaderParameters): Promise<VerificationKey> {
    const alg = h.alg ?? '';
    let k = pickKey(this.#fileKeys, h.kid, alg);
    if (!k && this.jwks) {
      await this.jwks.settled();
      k = pickKey(this.jwks.keys, h.kid, alg);
      if (!k) {
        await this.jwks.refreshForUnknownKid();
        k = pickKey(this.jwks.keys, h.kid, alg);
      }
    }
    if (!k) throw new AuthenticationError('token-unknown-key', h.kid ? `no key with kid ${JSON.stringify(h.kid).slice(0, 80)} for ${alg}` : `no key for ${alg}`);
    return k.key();
  }
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
