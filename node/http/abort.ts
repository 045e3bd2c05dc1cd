/**
 * Answers a failed handshake or refused request on the raw socket with a
 * short HTTP response and closes it (ws `abortHandshake`). Never throws:
 * the socket may already be gone.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** How long a socket may take to flush an abort response before it is destroyed. */
const ABORT_FLUSH_MS = 1000;

/** Writes `status` with a plain-text `reason` and closes the socket. */
export function abortSocket(socket: Duplex, status: number, reason: string, extraHeaders = ''): void {
  if (socket.destroyed) return;
  if (!socket.writable) { socket.destroy(); return; }
  const body = `${reason}\n`;
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extraHeaders}\r\n`;
  try {
    socket.end(head + body);
  } catch {
    socket.destroy();
    return;
  }
  const timer = setTimeout(destroySocket, ABORT_FLUSH_MS, socket);
  timer.unref();
}

function destroySocket(socket: Duplex): void { socket.destroy(); }
