/**
 * What the node knows about one client connection, attached to its socket
 * (`socket[kConn]`) by the listener and read by the request and upgrade
 * handlers: which listener, the client address (from PROXY protocol when
 * used), and a limit refusal to answer with on the first request.
 */
import type { LimitError } from '../shared/errors';

/** The listener a connection came in through. */
export interface ListenerInfo {
  readonly name: string;
  /** VIP name for `on: vip:NAME` listeners, else null. */
  readonly vip: string | null;
  /** `http` or `https`, for X-Forwarded-Proto. */
  readonly proto: 'http' | 'https';
  /** Listening address and port (the port is known once listening when configured as 0). */
  readonly host: string;
  port: number;
}

/** Per-connection facts. One shape: every field set at creation. */
export interface ClientConn {
  readonly listener: ListenerInfo;
  readonly clientAddress: string;
  readonly clientPort: number;
  /** Address and port the client connected to (from the PROXY header when used), sent on in PROXY headers to backends. */
  readonly destAddress: string;
  readonly destPort: number;
  /** Set when a connection cap refused this connection: its first request gets this status. */
  readonly reject: LimitError | null;
}

/** Back-reference from a client socket (raw or TLS) to its ClientConn. */
export const kConn = Symbol('wsha.conn');

/** The ClientConn of a socket, or a fallback built from the socket itself. */
export function connOf(socket: unknown): ClientConn | undefined {
  return (socket as { [kConn]?: ClientConn })[kConn];
}
