/**
 * The checks every client request passes before it is routed, on the plain
 * HTTP path and the upgrade path alike, so that neither is a way around the
 * other. Node's parser (llhttp, strict) already refuses most malformed
 * heads (bad tokens, bare CR or LF, duplicate Content-Length, both
 * Content-Length and Transfer-Encoding); these rules cover what it lets
 * through but a proxy must not forward:
 *
 *   version     only HTTP/1.0 and HTTP/1.1 (llhttp accepts 0.9 and 2.0)
 *   Host        at most one (RFC 9112 3.2), well-formed; required on 1.1
 *   target      origin-form, or absolute-form whose authority equals Host
 *   headers     names are tokens, values field-values (RFC 9110 5.1, 5.5)
 *   framing     Transfer-Encoding only as exactly `chunked`, never on
 *               HTTP/1.0, never beside Content-Length (RFC 9112 6.1, 6.3)
 *   path        one normalised path (normalize-path.ts)
 *
 * A refusal is a WshaError with an HTTP status; the caller answers it and
 * closes the connection, since a request it cannot frame leaves the rest
 * of the byte stream unframed too.
 */
import type { IncomingMessage } from 'node:http';
import { BadFramingError, BadPathError, BadRequestError, LimitError, type WshaError } from '../../shared/errors';
import { normalizePath } from '../route/normalize-path';

/** How the request body is delimited (RFC 9112 6.3); the backend gets the same. */
export type Framing = 'none' | 'length' | 'chunked';

/** A request that passed every check, with what routing and forwarding use. */
export interface CheckedRequest {
  /** Host header value ('' when an HTTP/1.0 request has none). */
  readonly host: string;
  /** Normalised path, without the query. */
  readonly path: string;
  /** `?...` as the client sent it, or ''. */
  readonly query: string;
  /** The path holds `%2F` (refused unless the route allows it). */
  readonly encodedSlash: boolean;
  readonly framing: Framing;
}

/**
 * Most header lines a request may have. Node's parser keeps the first
 * `maxHeadersCount` and drops the rest silently while still framing the
 * body by all of them; the listener sets this count, and a request that
 * reaches it is refused (431) rather than checked on a part of its head.
 */
export const MAX_HEADER_COUNT = 1000;

/** tchar (RFC 9110 5.6.2). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** field-value: VCHAR, obs-text, SP and HTAB inside (RFC 9110 5.5); llhttp has already trimmed the ends. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** uri-host [":" port]: an IP literal or a reg-name of letters, digits, '.', '-', '_' (no userinfo, no path). */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]*)(?::[0-9]{0,5})?$/;
const ABSOLUTE = /^(https?|wss?):\/\/([^/?]*)(.*)$/i;

/** Checks `req`; returns what routing needs, or the error to answer with. Never throws. */
export function checkRequest(req: IncomingMessage): CheckedRequest | WshaError {
  if (req.httpVersionMajor !== 1 || (req.httpVersionMinor !== 0 && req.httpVersionMinor !== 1)) return new BadRequestError(`HTTP/${req.httpVersion} is not supported`);
  const raw = req.rawHeaders;
  if (raw.length >= 2 * MAX_HEADER_COUNT) return new LimitError('maxHeaderCount', `more than ${MAX_HEADER_COUNT - 1} header lines`, 431);
  let hosts = 0;
  let host = '';
  let tes = 0;
  let te = '';
  let cls = 0;
  let cl = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (!TOKEN.test(name)) return new BadRequestError('invalid header name');
    if (!FIELD_VALUE.test(raw[i + 1])) return new BadRequestError(`invalid value in header ${name}`);
    // Only these three decide routing and framing; everything else is compared once, lower-cased, when forwarded.
    if (name.length === 4 && name.toLowerCase() === 'host') { hosts++; host = raw[i + 1]; }
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') { tes++; te = raw[i + 1]; }
    else if (name.length === 14 && name.toLowerCase() === 'content-length') { cls++; cl = raw[i + 1]; }
  }
  if (hosts > 1) return new BadRequestError('more than one Host header');
  if (hosts === 0 && req.httpVersionMinor === 1) return new BadRequestError('no Host header (an HTTP/1.1 request needs one)');
  if (hosts === 1 && !HOST.test(host)) return new BadRequestError('malformed Host header');
  const framing = framingOf(req.httpVersionMinor, tes, te, cls, cl);
  if (typeof framing !== 'string') return framing;
  const target = originForm(req.url ?? '', hosts === 1 ? host : null);
  if (typeof target !== 'string') return target;
  if (hosts === 0) host = authorityOf(req.url ?? '');
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const v = normalizePath(path);
  if (!v.ok) return new BadPathError(v.reason);
  return { host, path: v.path, query: q < 0 ? '' : target.slice(q), encodedSlash: v.encodedSlash, framing };
}

function framingOf(minor: number, tes: number, te: string, cls: number, cl: string): Framing | WshaError {
  if (tes > 0) {
    if (minor === 0) return new BadFramingError('Transfer-Encoding on an HTTP/1.0 request');
    if (tes > 1 || te.trim().toLowerCase() !== 'chunked') return new BadFramingError('Transfer-Encoding other than a single chunked');
    if (cls > 0) return new BadFramingError('both Transfer-Encoding and Content-Length');
    return 'chunked';
  }
  if (cls > 1 || (cls === 1 && !/^[0-9]{1,15}$/.test(cl))) return new BadFramingError('malformed Content-Length');
  return cls === 1 ? 'length' : 'none';
}

/** The origin-form target (path and query) of `url`, or the error; an absolute URL must name the Host. */
function originForm(url: string, host: string | null): string | WshaError {
  if (url.includes('#')) return new BadRequestError('fragment in request target');
  if (url.charCodeAt(0) === 0x2f) return url;
  const m = ABSOLUTE.exec(url);
  if (!m) return new BadRequestError('request target must be a path or an absolute http(s) URL');
  const authority = m[2];
  if (authority === '' || !HOST.test(authority)) return new BadRequestError('malformed authority in request target');
  if (host !== null && !sameAuthority(authority, host, m[1].toLowerCase())) return new BadRequestError('absolute request target disagrees with Host');
  const rest = m[3];
  return rest === '' ? '/' : rest.charCodeAt(0) === 0x3f ? `/${rest}` : rest;
}

function authorityOf(url: string): string {
  const m = ABSOLUTE.exec(url);
  return m ? m[2] : '';
}

function splitHostPort(a: string, scheme: string): [string, string] {
  const end = a.startsWith('[') ? a.indexOf(']') + 1 : a.lastIndexOf(':') < 0 ? a.length : a.lastIndexOf(':');
  const name = a.slice(0, end).toLowerCase();
  const port = a.slice(end + 1);
  return [name, port || (scheme === 'https' || scheme === 'wss' ? '443' : '80')];
}

/** Same host (case-insensitive) and port (the scheme's default when absent). */
export function sameAuthority(a: string, b: string, scheme: string): boolean {
  const [ah, ap] = splitHostPort(a, scheme);
  const [bh, bp] = splitHostPort(b, scheme);
  return ah === bh && Number(ap) === Number(bp);
}
