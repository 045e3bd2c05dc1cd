/**
 * Answers an edge refusal and books it (denied-log.ts): on the raw socket
 * for an upgrade (abort.ts, as every handshake refusal), as a response for
 * a plain request, with WWW-Authenticate on a 401 and Retry-After on a 429
 * or an admission 503.
 */
import type { Duplex } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AccessDeniedError, AdmissionError, AuthenticationError, RateLimitedError, type WshaError } from '../../shared/errors';
import type { NodeRuntime } from '../runtime';
import { abortSocket } from '../http/abort';
import { refusalHeaders, wwwAuthenticate } from './edge-headers';

/** The counter label of an edge refusal. */
export function reasonOf(err: WshaError): string {
  if (err instanceof AccessDeniedError || err instanceof AuthenticationError || err instanceof RateLimitedError) return err.reason;
  if (err instanceof AdmissionError) return 'admission';
  return 'ext-unavailable';
}

/** Refuses an upgrade on the raw socket. */
export function denyUpgrade(rt: NodeRuntime, socket: Duplex, route: string, err: WshaError, realm: string, address: string, headRequest: boolean): void {
  const status = err.httpStatus ?? 403;
  rt.denied.record(route, reasonOf(err), status, address, err.message);
  abortSocket(socket, status, err.message, { extraHeaders: refusalHeaders(err, realm), headRequest });
}

/** Refuses a plain HTTP request; the connection stays open (the request was framed). */
export function denyRequest(rt: NodeRuntime, _req: IncomingMessage, res: ServerResponse, route: string, err: WshaError, realm: string, address: string): void {
  const status = err.httpStatus ?? 403;
  rt.denied.record(route, reasonOf(err), status, address, err.message);
  if (res.headersSent) { res.destroy(); return; }
  const body = `${err.message}\n`;
  const headers: Record<string, string | number> = { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) };
  if (err instanceof RateLimitedError || err instanceof AdmissionError) headers['Retry-After'] = err.retryAfterSec;
  if (err instanceof AuthenticationError) headers['WWW-Authenticate'] = wwwAuthenticate(err, realm);
  res.writeHead(status, headers);
  res.end(body);
}
