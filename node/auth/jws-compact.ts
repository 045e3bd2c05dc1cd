/**
 * The JWS compact serialisation of a JWT (RFC 7515 section 7.1, RFC 7519
 * section 7.2), taken apart and its claims checked, without the signature
 * check itself (key-set.ts does that with node:crypto, i.e. OpenSSL).
 *
 *   BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature)
 *   \________ signing input (ASCII) ________/
 *
 * Strict where it matters: exactly three non-empty parts of base64url
 * characters (Buffer's decoder would skip anything else), a header and a
 * claims set that are JSON objects, `alg` a string, `kid` a string when
 * present, and no `crit` (no JWT extension is understood, so RFC 7515
 * 4.1.11 says refuse). Every failure is an AuthenticationError with a
 * reason label for metrics and logs.
 *
 * This replaced jose's jwtVerify on the handshake path: with WebCrypto
 * underneath, a verification cost about 2.5 times what Node's crypto.verify
 * on a KeyObject costs, most of it not in the RSA arithmetic (see the
 * performance notes of issue 12 in the README).
 */
import { AuthenticationError } from '../../shared/errors';

/** The claims set of a verified token (read-only: cached tokens share it). */
export type JwtPayload = Readonly<Record<string, unknown>>;

/** The protected header, as far as wsha reads it. */
export interface JwsHeader {
  readonly alg: string;
  readonly kid: string | undefined;
}

/** A token taken apart, not yet verified. */
export interface JwsParts {
  readonly header: JwsHeader;
  /** The ASCII bytes the signature covers. */
  readonly signingInput: Buffer;
  readonly signature: Buffer;
  /** The claims part, still base64url (decoded only once the signature holds). */
  readonly payloadB64: string;
}

/** The claims a route requires (compiled from routes[].auth.jwt). */
export interface ClaimRules {
  readonly issuers: readonly string[] | null;
  readonly audiences: readonly string[] | null;
  readonly requireExp: boolean;
  readonly leewayMs: number;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

const malformed = (why = 'token malformed') => new AuthenticationError('token-malformed', why);

function decodeJsonObject(b64: string): Record<string, unknown> | null {
  let v: unknown;
  try { v = JSON.parse(Buffer.from(b64, 'base64url').toString('utf8')); } catch { return null; }
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : null;
}

/** Splits `token` into header, signing input and signature; throws AuthenticationError (token-malformed). */
export function splitCompact(token: string): JwsParts {
  const d1 = token.indexOf('.');
  const d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
  if (d2 < 0 || token.indexOf('.', d2 + 1) >= 0) throw malformed();
  const h = token.slice(0, d1), p = token.slice(d1 + 1, d2), s = token.slice(d2 + 1);
  if (!BASE64URL.test(h) || !BASE64URL.test(p) || !BASE64URL.test(s)) throw malformed();
  const header = decodeJsonObject(h);
  if (!header || typeof header.alg !== 'string') throw malformed();
  if (header.kid !== undefined && typeof header.kid !== 'string') throw malformed();
  if (header.crit !== undefined) throw malformed('token names critical header parameters');
  return {
    header: { alg: header.alg, kid: header.kid as string | undefined },
    signingInput: Buffer.from(token.slice(0, d2), 'latin1'),
    signature: Buffer.from(s, 'base64url'),
    payloadB64: p,
  };
}

/** The claims set of a token whose signature held; throws AuthenticationError (token-malformed). */
export function decodePayload(payloadB64: string): JwtPayload {
  const payload = decodeJsonObject(payloadB64);
  if (!payload) throw malformed();
  return Object.freeze(payload);
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks `iss`, `aud` and the types of the time claims (the same answer whenever asked). */
export function checkStaticClaims(p: JwtPayload, r: ClaimRules): void {
  if (r.requireExp && p.exp === undefined) throw new AuthenticationError('token-claims', 'token claim exp missing');
  if (r.issuers && !(typeof p.iss === 'string' && r.issuers.includes(p.iss))) throw new AuthenticationError('token-issuer', 'token issuer not accepted');
  if (r.audiences && !audienceMatches(p.aud, r.audiences)) throw new AuthenticationError('token-audience', 'token audience not accepted');
  for (const c of ['exp', 'nbf', 'iat'] as const) {
    if (p[c] !== undefined && !isTime(p[c])) throw new AuthenticationError('token-claims', `token claim ${c} invalid`);
  }
}

function audienceMatches(aud: unknown, accepted: readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud);
  return Array.isArray(aud) && aud.some((a) => typeof a === 'string' && accepted.includes(a));
}

/**
 * Checks `exp` and `nbf` against `nowMs` (wall clock) with the leeway: a
 * token is good from nbf - leeway until exp + leeway (excluded). Run on
 * every use of a token, cached or not. Assumes checkStaticClaims passed.
 */
export function checkTimeClaims(p: JwtPayload, leewayMs: number, nowMs: number): void {
  if (p.nbf !== undefined && (p.nbf as number) * 1000 > nowMs + leewayMs) throw new AuthenticationError('token-not-yet-valid', 'token not yet valid');
  if (p.exp !== undefined && nowMs >= (p.exp as number) * 1000 + leewayMs) throw new AuthenticationError('token-expired', 'token expired');
}

/** Wall-clock ms after which `p` is no longer accepted (exp + leeway), or 0 without exp. */
export function expiresAtMsOf(p: JwtPayload, leewayMs: number): number {
  return p.exp !== undefined ? (p.exp as number) * 1000 + leewayMs : 0;
}
