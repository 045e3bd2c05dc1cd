/**
 * The header list a backend gets, for plain HTTP and for the upgrade: the
 * client's headers in their original case and order (duplicates kept, as
 * the backend would have seen them without the proxy), minus hop-by-hop
 * headers and the headers the client's `Connection` names, plus
 * X-Forwarded-For (appended to), X-Forwarded-Proto and X-Forwarded-Host.
 *
 * `Connection` may name only headers that really are per-hop: it can never
 * remove the framing (Content-Length, Transfer-Encoding), Host, or anything
 * wsha or the backend's access checks rely on. Without that rule
 * `Connection: content-length` turned a body into a second request on a
 * pooled backend socket (issue 10).
 */
import type { IncomingMessage } from 'node:http';
import type { Framing } from './request-checks';

/** Hop-by-hop headers (RFC 9110 7.6.1) that never cross the proxy as they came. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);

/** Headers a `Connection` list never removes. */
const PROTECTED: ReadonlySet<string> = new Set([
  'host', 'content-length', 'transfer-encoding', 'cookie', 'authorization', 'origin', 'forwarded',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host',
  'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions',
]);

/** What the proxy adds to a forwarded request. */
export interface ForwardInfo {
  clientAddress: string;
  /** `http` or `https`, as the client reached the listener. */
  proto: string;
  /** Extra header lines (each ending in CRLF), e.g. `Cookie: wsha_sid=...\r\n` for a new sticky session; '' for none. */
  extra: string;
  /** Lower-case name of the pool's sticky header, which a `Connection` list must not remove either; '' for none. */
  stickyHeader: string;
  /** Host header for an HTTP/1.0 request that had none (the request goes out as HTTP/1.1, which needs one): the backend's host:port. */
  backendHost: string;
}

/** Lower-case names the client's Connection headers list, minus the protected ones. */
export function connectionListed(req: IncomingMessage, keep: string): Set<string> {
  const out = new Set<string>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length !== 10 || raw[i].toLowerCase() !== 'connection') continue;
    for (const t of raw[i + 1].split(',')) {
      const n = t.trim().toLowerCase();
      if (n && !PROTECTED.has(n) && n !== keep) out.add(n);
    }
  }
  return out;
}

/**
 * Flat `[name, value, ...]` list for http.request. For `http`, the framing
 * the client used is stated again (Content-Length passes through; chunked
 * is re-sent as `Transfer-Encoding: chunked`, the body re-chunked by Node).
 * For `upgrade`, Connection and Upgrade go out as `Upgrade` and
 * `websocket` in their original position.
 */
export function forwardHeaderList(req: IncomingMessage, fwd: ForwardInfo, kind: 'http' | 'upgrade', framing: Framing): string[] {
  const raw = req.rawHeaders;
  const listed = connectionListed(req, fwd.stickyHeader);
  const out: string[] = [];
  let xff = '';
  let host = '';
  let cookieAt = -1;
  let sawConnection = false;
  let sawUpgrade = false;
  let sawHost = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const lower = name.toLowerCase();
    const value = raw[i + 1];
    if (lower === 'host') { host = value; sawHost = true; }
    if (lower === 'x-forwarded-for') { xff = xff ? `${xff}, ${value}` : value; continue; }
    if (lower === 'x-forwarded-proto' || lower === 'x-forwarded-host') continue;
    if (kind === 'upgrade' && lower === 'connection') { if (!sawConnection) out.push(name, 'Upgrade'); sawConnection = true; continue; }
    if (kind === 'upgrade' && lower === 'upgrade') { if (!sawUpgrade) out.push(name, value); sawUpgrade = true; continue; }
    if (HOP_BY_HOP.has(lower) || listed.has(lower)) continue;
    if (lower === 'cookie' && cookieAt < 0) cookieAt = out.length;
    out.push(name, value);
  }
  if (!sawHost) out.unshift('Host', fwd.backendHost);
  if (kind === 'http' && framing === 'chunked') out.push('Transfer-Encoding', 'chunked');
  out.push('X-Forwarded-For', xff ? `${xff}, ${fwd.clientAddress}` : fwd.clientAddress);
  out.push('X-Forwarded-Proto', fwd.proto);
  if (host) out.push('X-Forwarded-Host', host);
  if (fwd.extra) addExtra(out, fwd.extra, cookieAt);
  return out;
}

/** Adds `Name: value\r\n` lines; a Cookie joins the client's Cookie header (one per request, RFC 6265 5.4). */
function addExtra(out: string[], extra: string, cookieAt: number): void {
  for (const line of extra.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'cookie' && cookieAt >= 0) out[cookieAt + 1] = `${out[cookieAt + 1]}; ${value}`;
    else out.push(name, value);
  }
}
