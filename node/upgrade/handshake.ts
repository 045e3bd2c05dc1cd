/**
 * The pieces of the WebSocket opening handshake the proxy touches (RFC 6455
 * section 4): validating the client's upgrade request, and verifying the
 * backend's answer before anything is spliced.
 *
 *   client                      wsha                           backend
 *     | GET + Upgrade (+ bytes) -> | check, route; hold bytes      |
 *     |                            | --- GET + Upgrade ----------> |
 *     |                            | <-- 101 ---------------------- |
 *     |                            | verify: HTTP/1.1 101, one      |
 *     |                            | Upgrade: websocket, Connection |
 *     |                            | has upgrade, Accept = SHA-1    |
 *     |                            | of key + GUID                  |
 *     | <-- 101 ------------------ | --- held bytes --------------> |
 *     | <========= spliced bytes, no parsing ====================> |
 *
 * A backend answer that is not a 101 is relayed with `Connection: close`
 * and both connections end; a 101 that fails verification is answered 502
 * (issue 10: a status-reflecting endpoint must not open a raw tunnel).
 */
import { hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Framing } from '../http/request-checks';
import { BAD_VALUE_BYTE, TOKEN, type ResponseHead } from './response-head';

/** Largest backend response head accepted. */
export const MAX_RESPONSE_HEAD_BYTES = 65536;

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY_RE = /^[A-Za-z0-9+/]{22}==$/;

/** Headers of a non-101 answer that are never relayed as they came (the body is relayed decoded, close-delimited). */
const RELAY_DROP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Why an upgrade request is not a valid WebSocket handshake, or null when it is. */
export function invalidUpgradeReason(req: IncomingMessage, framing: Framing = 'none'): string | null {
  if (req.method !== 'GET') return 'WebSocket upgrade must use GET';
  // RFC 6455 4.1: HTTP/1.1 or higher; an HTTP/1.0 request with Upgrade is never upgraded.
  if (req.httpVersion !== '1.1') return 'WebSocket upgrade needs HTTP/1.1';
  const upgrade = req.headers.upgrade;
  if (!upgrade || upgrade.toLowerCase() !== 'websocket') return 'Upgrade header must be websocket';
  const connection = req.headers.connection;
  if (!connection || !/(^|,)\s*upgrade\s*(,|$)/i.test(connection)) return 'Connection header must include upgrade';
  const key = req.headers['sec-websocket-key'];
  // 22 base64 digits and '==' are 16 bytes: the pattern alone says it.
  if (typeof key !== 'string' || !KEY_RE.test(key.trim())) return 'Sec-WebSocket-Key must be 16 bytes in base64';
  if (req.headers['sec-websocket-version'] !== '13') return 'Sec-WebSocket-Version must be 13';
  // A body on the handshake would reach the backend as WebSocket frames or as a request of its own.
  if (framing === 'chunked' || (framing === 'length' && req.headers['content-length'] !== '0')) return 'WebSocket upgrade must not carry a body';
  return null;
}

/** Sec-WebSocket-Accept for a client key (RFC 6455 4.2.2 step 5.4). */
export function acceptFor(key: string): string {
  // The one-shot hash: no Hash object and stream per handshake (it showed in the handshake profile).
  return hash('sha1', key.trim() + WS_GUID, 'base64');
}

/** Why the backend's 101 must not open a tunnel, or null when it is a valid WebSocket 101 for `expectedAccept`. */
export function invalid101Reason(res: ResponseHead, expectedAccept: string): string | null {
  if (res.statusCode !== 101) return `status ${res.statusCode}`;
  if (res.httpVersion !== '1.1') return `HTTP/${res.httpVersion} 101`;
  const raw = res.rawHeaders;
  let upgrades = 0;
  let upgrade = '';
  let connUpgrade = false;
  let accepts = 0;
  let accept = '';
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (lower === 'upgrade') { upgrades++; upgrade = raw[i + 1]; }
    else if (lower === 'connection') { if (/(^|,)\s*upgrade\s*(,|$)/i.test(raw[i + 1])) connUpgrade = true; }
    else if (lower === 'sec-websocket-accept') { accepts++; accept = raw[i + 1]; }
  }
  if (upgrades !== 1 || upgrade.trim().toLowerCase() !== 'websocket') return 'Upgrade is not websocket';
  if (!connUpgrade) return 'Connection does not include upgrade';
  if (accepts !== 1) return accepts ? 'more than one Sec-WebSocket-Accept' : 'no Sec-WebSocket-Accept';
  if (accept.trim() !== expectedAccept) return 'Sec-WebSocket-Accept does not match the key';
  return null;
}

/** The verified 101 for the client, headers as the backend sent them, plus `extra` lines (each ending in CRLF). */
export function switchingHead(res: ResponseHead, extra: string): Buffer {
  const raw = res.rawHeaders;
  let head = `HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}\r\n`;
  for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return Buffer.from(`${head}${extra}\r\n`, 'latin1');
}

/** The head of a relayed non-101 answer: the backend's status and end-to-end headers, and `Connection: close`. */
export function relayHead(res: ResponseHead): Buffer {
  const raw = res.rawHeaders;
  let head = `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\n`;
  for (let i = 0; i < raw.length; i += 2) if (!RELAY_DROP.has(raw[i].toLowerCase())) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return Buffer.from(`${head}Connection: close\r\n\r\n`, 'latin1');
}

const PATH_OK = /^[\x21-\xff]+$/;

/**
 * The upgrade request head for the backend (latin1), from the routed path
 * and the flat header list, or null when a name, value or the path could
 * not go on the wire as they are. They were checked on the way in; this is
 * the last line against a CR or LF reaching the backend (header injection),
 * as Node's HTTP client was before.
 */
export function requestHead(path: string, headers: readonly string[]): string | null {
  if (!PATH_OK.test(path)) return null;
  let head = `GET ${path} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    const value = headers[i + 1];
    if (!TOKEN.test(name) || BAD_VALUE_BYTE.test(value)) return null;
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

/** Bytes of a request head as it came in (request line, headers, blank line), for the held-bytes budget. */
export function requestHeadBytes(req: IncomingMessage): number {
  let n = (req.method?.length ?? 0) + (req.url?.length ?? 0) + 12;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) n += raw[i].length + raw[i + 1].length + 4;
  return n + 2;
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
