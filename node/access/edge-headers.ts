/**
 * What the edge changes on the request a backend gets, applied to the flat
 * header list of forward-headers.ts: headers that carry claims or auth
 * answers are removed as the client sent them (always: a client must never
 * forge them), the Sec-WebSocket-Protocol entry that carried the token goes,
 * and the verified values are added. Also the refusal answers' extra
 * header lines.
 */
import type { WshaError } from '../../shared/errors';
import { AdmissionError, AuthenticationError, RateLimitedError } from '../../shared/errors';

/** Header changes for one admitted request. */
export interface HeaderEdits {
  /** Lower-case names removed from the client's headers. */
  readonly strip: ReadonlySet<string> | null;
  /** `[name, value]` added. */
  readonly add: ReadonlyArray<readonly [string, string]>;
  /** New Sec-WebSocket-Protocol value ('' removes the header), or null to leave it. */
  readonly protocol: string | null;
}

/** field-value characters (RFC 9110 5.5); anything else in a claim is percent-encoded. */
const SAFE_VALUE = /^[\x20-\x7e]*$/;

/** A claim as a header value: strings as they are, other JSON as JSON, unsafe characters percent-encoded. */
export function claimValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? '';
  const t = s.trim();
  return SAFE_VALUE.test(t) ? t : encodeURIComponent(t);
}

/** Applies `e` to a flat `[name, value, ...]` list (in place) and returns it. */
export function applyEdits(list: string[], e: HeaderEdits): string[] {
  if (e.strip !== null || e.protocol !== null) {
    let w = 0;
    for (let r = 0; r < list.length; r += 2) {
      const lower = list[r].toLowerCase();
      if (e.strip?.has(lower)) continue;
      if (e.protocol !== null && lower === 'sec-websocket-protocol') continue;
      list[w++] = list[r];
      list[w++] = list[r + 1];
    }
    list.length = w;
    if (e.protocol) list.push('Sec-WebSocket-Protocol', e.protocol);
  }
  for (const [n, v] of e.add) list.push(n, v);
  return list;
}

/** Extra header lines (each ending in CRLF) for the answer to a refusal. */
export function refusalHeaders(err: WshaError, realm: string): string {
  if (err instanceof RateLimitedError || err instanceof AdmissionError) return `Retry-After: ${err.retryAfterSec}\r\n`;
  if (err instanceof AuthenticationError) return `WWW-Authenticate: ${wwwAuthenticate(err, realm)}\r\n`;
  return '';
}

/** The WWW-Authenticate value of a 401 (RFC 6750 3: no error code when no token came). */
export function wwwAuthenticate(err: AuthenticationError, realm: string): string {
  if (err.challenge) return err.challenge;
  if (err.reason === 'token-missing') return `Bearer realm="${realm}"`;
  return `Bearer realm="${realm}", error="invalid_token", error_description="${err.message.replace(/["\\]/g, '')}"`;
}
