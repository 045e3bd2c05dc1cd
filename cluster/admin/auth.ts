/**
 * Bearer-token check of the admin API. Where a token may come from depends
 * on the request, so that it neither lands in URLs nor rides along on a
 * cross-site request:
 *
 *   POST (any action)     `Authorization: Bearer` only
 *   GET /api/events       header, the session cookie, or `?token=` (EventSource cannot set headers)
 *   other GET             header or the session cookie
 *
 * The live page trades its token for the session cookie once (POST
 * /api/session with the header); the cookie is HttpOnly and SameSite=Strict
 * and holds an HMAC of the token, not the token, so it cannot be replayed
 * as a bearer token. A cookie holding the token itself (set by hand) is
 * still honoured on GET routes. Comparisons are constant-time over
 * SHA-256 digests, so neither length nor prefix leaks.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Name of the live page's session cookie. */
export const TOKEN_COOKIE = 'wsha_admin_token';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** A fresh random token, for a node started without `node.admin.token`. */
export function generateToken(): string {
  return randomBytes(18).toString('base64url');
}

/** The session cookie value for a token: an HMAC, so the cookie is not the token. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('wsha admin session').digest('base64url');
}

/** The `Set-Cookie` value that starts a live-page session (Secure when the admin API is served over TLS). */
export function sessionCookie(token: string, secure: boolean): string {
  return `${TOKEN_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

function cookieToken(header: string | undefined): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) {
      try { return decodeURIComponent(part.slice(eq + 1).trim()); } catch { return null; }
    }
  }
  return null;
}

/** The token in `Authorization: Bearer`, or null. */
export function bearerToken(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim();
  return null;
}

/** Where a request may carry its credentials. */
export type CredentialPlaces = 'header' | 'header-or-cookie' | 'header-cookie-or-query';

/** The places allowed for `method` and `pathname` (see the file comment). */
export function placesFor(method: string, pathname: string): CredentialPlaces {
  if (method !== 'GET' && method !== 'HEAD') return 'header';
  return pathname === '/api/events' ? 'header-cookie-or-query' : 'header-or-cookie';
}

/** The credential a request presents in the allowed places (header, then cookie, then query), or null. */
export function presentedToken(req: IncomingMessage, url: URL, places: CredentialPlaces = placesFor(req.method ?? 'GET', url.pathname)): string | null {
  const bearer = bearerToken(req);
  if (bearer !== null || places === 'header') return bearer;
  const cookie = cookieToken(req.headers.cookie);
  if (cookie !== null) return cookie;
  return places === 'header-cookie-or-query' ? url.searchParams.get('token') : null;
}

/** Checks presented credentials against the expected token in constant time. */
export class TokenCheck {
  readonly #expected: Buffer;
  readonly #session: Buffer;
  constructor(token: string) {
    this.#expected = digest(token);
    this.#session = digest(sessionValue(token));
  }

  /** True when the request carries the right token (or session cookie) in a place allowed for it. */
  allows(req: IncomingMessage, url: URL, places: CredentialPlaces = placesFor(req.method ?? 'GET', url.pathname)): boolean {
    const bearer = bearerToken(req);
    if (bearer !== null) return timingSafeEqual(digest(bearer), this.#expected);
    if (places === 'header') return false;
    const cookie = cookieToken(req.headers.cookie);
    if (cookie !== null) {
      const d = digest(cookie);
      // Both compared, so timing does not tell which form was close.
      const asSession = timingSafeEqual(d, this.#session);
      const asToken = timingSafeEqual(d, this.#expected);
      if (asSession || asToken) return true;
    }
    if (places !== 'header-cookie-or-query') return false;
    const q = url.searchParams.get('token');
    return q !== null && timingSafeEqual(digest(q), this.#expected);
  }
}
