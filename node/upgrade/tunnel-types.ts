/**
 * What a Tunnel is made from and reports to: its owner (the registry), where
 * it came from, and the handshake it sends. Kept apart from tunnel.ts so
 * that the registry and the upgrade handler see the ports, not the machine.
 */
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Backend } from '../pool/backend';
import type { Tunnel } from './tunnel';

/** What a tunnel reports to whoever owns it (the registry). */
export interface TunnelOwner {
  /** Node-level byte counters (integer fields, read at scrape time). */
  stats: { bytesIn: number; bytesOut: number };
  tunnelOpened(t: Tunnel): void;
  tunnelFailed(t: Tunnel, status: number, reason: string, backendFault: boolean): void;
  tunnelClosed(t: Tunnel): void;
  /** Starts/stops watching the tunnel's timeouts. */
  track(t: Tunnel): void;
  untrack(t: Tunnel): void;
}

/** Where a tunnel came from, for counts and paced closes. */
export interface TunnelOrigin {
  listener: string;
  /** VIP name when the listener is `on: vip:NAME`, else null. */
  vip: string | null;
  clientAddress: string;
}

/** The handshake request for the backend: origin-form path and the flat header list. */
export interface HandshakeRequest {
  path: string;
  headers: string[];
}

/** What a tunnel is made from (the registry adds the owner). */
export interface TunnelInit {
  client: Duplex;
  backend: Socket;
  target: Backend;
  origin: TunnelOrigin;
  owner: TunnelOwner;
  request: HandshakeRequest;
  /** Bytes the client sent after its request head, held until a verified 101. */
  held: Buffer;
  /** Most bytes the client may have sent beyond its head before the 101 (limits.maxHeaderBytes minus the head). */
  heldBudget: number;
  /** Sec-WebSocket-Accept the backend's 101 must carry. */
  expectedAccept: string;
  responseExtra: string;
  sessionKey: string | null;
  connectTimeoutMs: number;
  /** Wait for the backend's answer once connected. */
  headTimeoutMs: number;
  idleTimeoutMs: number;
}
