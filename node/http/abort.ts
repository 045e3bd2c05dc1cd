/**
 * Answers a failed handshake or refused request on the raw socket with a
 * short HTTP response and closes it (ws `abortHandshake`). Never throws:
 * the socket may already be gone.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** How long a socket may take to flush an abort response before it is destroyed. */
const ABORT_FLUSH_MS = 1000;

/** Options of abortSocket. */
export interface AbortOptions {
  /** Header lines (each ending in CRLF) to add. */
  extraHeaders?: string;
  /** The refused request was a HEAD: the answer has no body (RFC 9110 9.3.2). */
  headRequest?: boolean;
}

/** Marks a connection whose next requests must not be served: it closes after the answer in progress. */
const kLastRequest = Symbol('wsha.lastRequest');

/** Marks `socket`: what its parser finds after the current request is ignored (see http-proxy.ts). */
export function markLastRequest(socket: Duplex): void { (socket as unknown as Record<symbol, boolean>)[kLastRequest] = true; }

/** True once markLastRequest was called on `socket`. */
export function isLastRequest(socket: Duplex): boolean { return (socket as unknown as Record<symbol, boolean>)[kLastRequest] === true; }

/** The HTTP response still being written on `socket` by Node's server, if any. */
export function pendingResponse(socket: Duplex): PendingResponse | null {
  const m = (socket as unknown as { _httpMessage?: PendingResponse | null })._httpMessage;
  return m && !m.writableFinished ? m : null;
}

/** What pendingResponse returns: a ServerResponse, seen from outside. */
export interface PendingResponse { readonly writableFinished: boolean; once(ev: 'finish' | 'close', fn: () => void): unknown }

/**
 * Ends our side of `socket` and destroys it after a short flush time. A
 * socket nobody reads never sees the peer's FIN or RST (listeners allow
 * half-open connections), so `end()` alone could keep it, and its fd,
 * forever.
 */
export function endSoon(socket: Duplex): void {
  if (socket.destroyed) return;
  socket.end();
  setTimeout(destroySocket, ABORT_FLUSH_MS, socket).unref();
}

/** Ends `socket` once `res` is out (or gone). */
export function closeAfterResponse(socket: Duplex, res: PendingResponse): void {
  let done = false;
  const close = () => {
    if (done) return;
    done = true;
    endSoon(socket);
  };
  res.once('finish', close);
  res.once('close', close);
}

/** True when raw request bytes start with a HEAD request line. */
export function isHeadRequest(bytes: Buffer | undefined): boolean {
  return !!bytes && bytes.length >= 5 && bytes.toString('latin1', 0, 5) === 'HEAD ';
}

/** Writes `status` with a plain-text `reason` and closes the socket. */
export function abortSocket(socket: Duplex, status: number, reason: string, opts: AbortOptions = {}): void {
  if (socket.destroyed) return;
  if (!socket.writable) { socket.destroy(); return; }
  const body = `${reason}\n`;
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${opts.extraHeaders ?? ''}\r\n`;
  try {
    socket.end(opts.headRequest ? head : head + body);
  } catch {
    socket.destroy();
    return;
  }
  const timer = setTimeout(destroySocket, ABORT_FLUSH_MS, socket);
  timer.unref();
}

function destroySocket(socket: Duplex): void { socket.destroy(); }
