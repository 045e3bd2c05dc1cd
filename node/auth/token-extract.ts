/**
 * Finds the bearer token of a request, in the configured places and in this
 * order: `Authorization: Bearer`, a cookie, a query parameter, a
 * `Sec-WebSocket-Protocol` entry with a prefix (browsers cannot set headers
 * on a WebSocket; Kubernetes uses `base64url.bearer.authorization.k8s.io.`).
 * A protocol entry is removed before forwarding, so the backend never
 * negotiates the token as a subprotocol; `protocolRest` is what is left.
 * Likewise a query parameter: `queryRest` is the query without it, so the
 * token is not in the request line the backend gets (nor in its access log).
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
  /** With `from: query`: the query (with its `?`) without the token parameter ('' when none is left). */
  queryRest: string | null;
}

/** The token of `req`, or null when none of the places holds one. */
export function extractToken(req: IncomingMessage, query: string, s: TokenSources): FoundToken | null {
  if (s.bearer) {
    const h = req.headers.authorization;
    if (typeof h === 'string' && h.length > 7 && h.slice(0, 7).toLowerCase() === 'bearer ') return { token: h.slice(7).trim(), from: 'bearer', protocolRest: null, queryRest: null };
  }
  if (s.cookie) {
    const v = cookieValue(req.headers.cookie, s.cookie);
    if (v) return { token: v, from: 'cookie', protocolRest: null, queryRest: null };
  }
  if (s.query && query.length > 1) {
    const v = new URLSearchParams(query.slice(1)).get(s.query);
    if (v) return { token: v, from: 'query', protocolRest: null, queryRest: queryWithout(query, s.query) };
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
  return { token: decodeProtocolToken(token, prefix), from: 'protocol', protocolRest: entries.join(', '), queryRest: null };
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

/**
 * `query` (with its leading `?`) without every `name=...` parameter, the
 * rest kept byte for byte in its order; '' when nothing is left. Names are
 * compared decoded, as URLSearchParams (which found the token) decodes them.
 */
export function queryWithout(query: string, name: string): string {
  if (query.length < 2) return query;
  const kept: string[] = [];
  for (const part of query.slice(1).split('&')) {
    const eq = part.indexOf('=');
    const raw = eq < 0 ? part : part.slice(0, eq);
    const key = raw.includes('%') || raw.includes('+') ? new URLSearchParams(`${raw}=`).keys().next().value : raw;
    if (key !== name) kept.push(part);
  }
  return kept.length ? `?${kept.join('&')}` : '';
}
