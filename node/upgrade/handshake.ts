/**
 * The pieces of the WebSocket opening handshake the proxy touches (RFC 6455
 * section 4): validating the client's upgrade request, writing the request
 * head for the backend, and finding the end of the backend's response head.
 * The proxy never computes Sec-WebSocket-Accept: the backend does, and its
 * 101 goes back verbatim.
 */
import type { IncomingMessage } from 'node:http';

/** Largest backend response head accepted before the tunnel is refused with 502. */
export const MAX_RESPONSE_HEAD_BYTES = 65536;

const HOP_BY_HOP_FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);
const KEY_RE = /^[A-Za-z0-9+/]{22}==$/;

/** Why an upgrade request is not a valid WebSocket handshake, or null when it is. */
export function invalidUpgradeReason(req: IncomingMessage): string | null {
  if (req.method !== 'GET') return 'WebSocket upgrade must use GET';
  const upgrade = req.headers.upgrade;
  if (!upgrade || upgrade.toLowerCase() !== 'websocket') return 'Upgrade header must be websocket';
  const connection = req.headers.connection;
  if (!connection || !/(^|,)\s*upgrade\s*(,|$)/i.test(connection)) return 'Connection header must include upgrade';
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !KEY_RE.test(key.trim()) || Buffer.from(key.trim(), 'base64').length !== 16) return 'Sec-WebSocket-Key must be 16 bytes in base64';
  if (req.headers['sec-websocket-version'] !== '13') return 'Sec-WebSocket-Version must be 13';
  return null;
}

/** What the proxy adds to a forwarded request. */
export interface ForwardInfo {
  clientAddress: string;
  /** `http` or `https`, as the client reached the listener. */
  proto: string;
  /** Extra header lines (each ending in CRLF), e.g. a sticky cookie; '' for none. */
  extra: string;
}

/**
 * The request head for the backend: same method, path and headers in their
 * original case and order (subprotocols and extensions untouched), with
 * X-Forwarded-For appended to and X-Forwarded-Proto/Host set.
 */
export function buildRequestHead(req: IncomingMessage, fwd: ForwardInfo): string {
  const raw = req.rawHeaders;
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  let xff = '';
  let host = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const lower = name.toLowerCase();
    if (lower === 'host') host = raw[i + 1];
    if (HOP_BY_HOP_FORWARDED.has(lower)) {
      if (lower === 'x-forwarded-for') xff = xff ? `${xff}, ${raw[i + 1]}` : raw[i + 1];
      continue;
    }
    head += `${name}: ${raw[i + 1]}\r\n`;
  }
  head += `X-Forwarded-For: ${xff ? `${xff}, ${fwd.clientAddress}` : fwd.clientAddress}\r\n`;
  head += `X-Forwarded-Proto: ${fwd.proto}\r\n`;
  if (host) head += `X-Forwarded-Host: ${host}\r\n`;
  return `${head}${fwd.extra}\r\n`;
}

/** Index just past the CRLFCRLF that ends a response head in `buf`, or -1. */
export function headEnd(buf: Buffer): number {
  const i = buf.indexOf('\r\n\r\n');
  return i < 0 ? -1 : i + 4;
}

/** The status code of a response head (`HTTP/1.1 101 ...`), or 0 when the status line is malformed. */
export function parseStatus(head: Buffer): number {
  // "HTTP/1.x SSS" — the status sits at bytes 9..11.
  if (head.length < 12 || head.toString('latin1', 0, 7) !== 'HTTP/1.') return 0;
  const code = Number(head.toString('latin1', 9, 12));
  return Number.isInteger(code) && code >= 100 && code <= 599 ? code : 0;
}

/** Inserts extra header lines (each ending in CRLF) before the blank line that ends `head`. */
export function withExtraHeaders(head: Buffer, extra: string): Buffer {
  if (!extra) return head;
  return Buffer.concat([head.subarray(0, head.length - 2), Buffer.from(extra, 'latin1'), head.subarray(head.length - 2)]);
}

/** Reads a cookie value from a Cookie header, or null. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponentSafe(part.slice(eq + 1).trim());
  }
  return null;
}

function decodeURIComponentSafe(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}
