/**
 * Bearer-token check of the admin API. The token comes in the
 * `Authorization: Bearer` header, or (for EventSource, which cannot set
 * headers) as `?token=` or the `wsha_admin_token` cookie. Comparison is
 * constant-time over SHA-256 digests, so neither length nor prefix leaks.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Name of the cookie the live page may use instead of the query parameter. */
export const TOKEN_COOKIE = 'wsha_admin_token';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** A fresh random token, for a node started without `node.admin.token`. */
export function generateToken(): string {
  return randomBytes(18).toString('base64url');
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

/** The token a request presents, from header, query or cookie (in that order), or null. */
export function presentedToken(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim();
  const q = url.searchParams.get('token');
  if (q) return q;
  return cookieToken(req.headers.cookie);
}

/** Checks presented tokens against the expected one in constant time. */
export class TokenCheck {
  readonly #expected: Buffer;
  constructor(token: string) { this.#expected = digest(token); }

  /** True when the request carries the right token. */
  allows(req: IncomingMessage, url: URL): boolean {
    const got = presentedToken(req, url);
    return got !== null && timingSafeEqual(digest(got), this.#expected);
  }
}
