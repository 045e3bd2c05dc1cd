/**
 * Finds the bearer token of a request, in the configured places and in this
 * order: `Authorization: Bearer`, a cookie, a query parameter, a
 * `Sec-WebSocket-Protocol` entry with a prefix (browsers cannot set headers
 * on a WebSocket; Kubernetes uses `base64url.bearer.authorization.k8s.io.`).
 * A protocol entry is removed before forwarding, so the backend never
 * negotiates the token as a subprotocol; `protocolRest` is what is left.
 */
import type { IncomingMessage } from 'node:http';
import { cookieValue } from '../upgrade/handshake';

/** Where to look (routes[].auth.jwt.tokenFrom). */
export interface TokenSources {
  readonly bearer: boolean;
  readonly cookie?: string;
  readonly query?: string;
  readonly protocolPrefix?: string;
}

/** A token found, and where. */
export interface FoundToken {
  token: string;
  from: 'bearer' | 'cookie' | 'query' | 'protocol';
  /** With `from: protocol`: the Sec-WebSocket-Protocol value without the token entry ('' when none is left). */
  protocolRest: string | null;
}

/** The token of `req`, or null when none of the places holds one. */
export function extractToken(req: IncomingMessage, query: string, s: TokenSources): FoundToken | null {
  if (s.bearer) {
    const h = req.headers.authorization;
    if (typeof h === 'string' && h.length > 7 && h.slice(0, 7).toLowerCase() === 'bearer ') return { token: h.slice(7).trim(), from: 'bearer', protocolRest: null };
  }
  if (s.cookie) {
    const v = cookieValue(req.headers.cookie, s.cookie);
    if (v) return { token: v, from: 'cookie', protocolRest: null };
  }
  if (s.query && query.length > 1) {
    const v = new URLSearchParams(query.slice(1)).get(s.query);
    if (v) return { token: v, from: 'query', protocolRest: null };
  }
  if (s.protocolPrefix) {
    const found = fromProtocol(req.headers['sec-websocket-protocol'], s.protocolPrefix);
    if (found) return found;
  }
  return null;
}

function fromProtocol(header: string | undefined, prefix: string): FoundToken | null {
  if (!header) return null;
  const entries = header.split(',').map((e) => e.trim()).filter((e) => e !== '');
  const at = entries.findIndex((e) => e.startsWith(prefix) && e.length > prefix.length);
  if (at < 0) return null;
  const token = entries[at].slice(prefix.length);
  entries.splice(at, 1);
  return { token: decodeProtocolToken(token, prefix), from: 'protocol', protocolRest: entries.join(', ') };
}

/**
 * Kubernetes' prefix carries the token base64url-encoded (a JWT has dots,
 * which a subprotocol token may hold, but the convention encodes it
 * anyway); any other prefix carries it as is.
 */
function decodeProtocolToken(t: string, prefix: string): string {
  if (!prefix.startsWith('base64url.')) return t;
  const decoded = Buffer.from(t, 'base64url').toString('utf8');
  return decoded.split('.').length === 3 ? decoded : t;
}
