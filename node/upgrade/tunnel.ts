/**
 * One WebSocket tunnel: the backend handshake, then the byte splice between
 * the client socket and the backend socket, and its close.
 *
 *   connecting --101--> open --close(code)--> closing --both gone--> closed
 *       |                 |                                            ^
 *       +--refused/timeout/client gone-----------+--peer closed--------+
 *
 * Closing a tunnel with a code (1001 drain, 1012 handover):
 *
 *   client                 wsha                   backend
 *     |  <-- close(code) --- |                        |
 *     |                      | -------- FIN --------> |
 *     |  --- close(code) --> | (discarded)            |
 *     |  <------ FIN ------- |                        |
 *     |        (destroyed after CLOSE_TIMEOUT_MS if the client lingers)
 *
 * The splice uses module-level listeners that reach their tunnel through
 * `socket[kTunnel]` (ws style: no per-connection closures) and pauses the
 * reader when the other side's write buffer is full (backpressure). No
 * payload is read: only the frame headers of the backend-to-client stream
 * are skipped over (FrameBoundary) so that our own close frame goes out
 * between two frames. Every field is set in the constructor (one shape).
 */
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { StateMachine, type TransitionTable } from '../../shared/state-machine';
import type { WheelEntry } from '../timer-wheel';
import type { Backend } from '../pool/backend';
import { abortSocket } from '../http/abort';
import { MAX_RESPONSE_HEAD_BYTES, headEnd, parseStatus, withExtraHeaders } from './handshake';
import { FrameBoundary } from './frame-boundary';

/** Tunnel states. */
export const TUNNEL_STATES = ['connecting', 'open', 'closing', 'closed'] as const;
/** One tunnel state. */
export type TunnelState = (typeof TUNNEL_STATES)[number];

/** Legal tunnel moves. */
export const TUNNEL_TRANSITIONS: TransitionTable<TunnelState> = Object.freeze({
  connecting: ['open', 'closed'],
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
});

/** A client that does not finish the closing handshake is destroyed after this. */
export const CLOSE_TIMEOUT_MS = 3000;

/** Back-reference from a socket to its tunnel (cross-module internal). */
export const kTunnel = Symbol('wsha.tunnel');

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

/** One spliced WebSocket connection. */
export class Tunnel implements WheelEntry {
  readonly sm = new StateMachine<TunnelState>('tunnel', 'connecting', TUNNEL_TRANSITIONS);
  readonly client: Duplex;
  readonly backend: Socket;
  readonly target: Backend;
  readonly origin: TunnelOrigin;
  readonly owner: TunnelOwner;
  /** Request head (and any bytes the client sent after it) to write once connected. */
  pendingHead: Buffer | null;
  /** Backend response bytes until the end of its head. */
  handshakeBuf: Buffer | null = null;
  /** Header lines added to the 101 (sticky cookie), '' for none. */
  responseExtra: string;
  /** Sticky session key recorded for this tunnel (released when it closes), or null. */
  readonly sessionKey: string | null;
  /** True once the backend TCP (and TLS) connection is up. */
  connected = false;
  idleTimeoutMs: number;
  active = 0;
  idleMs = 0;
  timeoutMs: number;
  /** Code and reason of our own close, set by close(); the frame goes out at the next frame boundary. */
  closeCode = 0;
  closeReason = '';
  /** True once our close frame was written to the client. */
  closeSent = false;
  /** Frame boundaries of the backend-to-client stream, so that our close frame never lands inside a frame. */
  readonly frames = new FrameBoundary();

  constructor(init: { client: Duplex; backend: Socket; target: Backend; origin: TunnelOrigin; owner: TunnelOwner; head: Buffer; responseExtra: string; sessionKey: string | null; connectTimeoutMs: number; idleTimeoutMs: number }) {
    this.client = init.client;
    this.backend = init.backend;
    this.target = init.target;
    this.origin = init.origin;
    this.owner = init.owner;
    this.pendingHead = init.head;
    this.responseExtra = init.responseExtra;
    this.sessionKey = init.sessionKey;
    this.idleTimeoutMs = init.idleTimeoutMs;
    this.timeoutMs = init.connectTimeoutMs;
    (this.client as any)[kTunnel] = this;
    (this.backend as any)[kTunnel] = this;
    this.client.pause();
    this.client.on('error', clientOnError);
    this.client.on('close', clientOnClose);
    this.client.on('end', clientOnEnd);
    this.backend.on('error', backendOnError);
    this.backend.on('close', backendOnClose);
    this.backend.on('data', backendOnHandshakeData);
    this.backend.once(this.target.tls ? 'secureConnect' : 'connect', backendOnConnect);
    this.owner.track(this);
  }

  get state(): TunnelState { return this.sm.state; }

  /** The backend socket is connected: send the request head. */
  backendConnected(): void {
    if (this.sm.state !== 'connecting') return;
    this.connected = true;
    const head = this.pendingHead;
    this.pendingHead = null;
    if (head) this.backend.write(head);
  }

  /** Handshake bytes from the backend; opens or fails the tunnel once the head is complete. */
  handshakeData(chunk: Buffer): void {
    if (this.sm.state !== 'connecting') return;
    const buf = this.handshakeBuf ? Buffer.concat([this.handshakeBuf, chunk]) : chunk;
    const end = headEnd(buf);
    if (end < 0) {
      if (buf.length > MAX_RESPONSE_HEAD_BYTES) return this.fail(502, 'backend response head too large', true);
      this.handshakeBuf = buf;
      return;
    }
    this.handshakeBuf = null;
    const head = buf.subarray(0, end);
    const status = parseStatus(head);
    if (status !== 101) {
      return this.fail(status >= 400 ? status : 502, status ? `backend answered the upgrade with ${status}` : 'backend sent a malformed response', status === 0 || status >= 500);
    }
    this.open(head, buf.subarray(end));
  }

  #splice(): void {
    this.backend.off('data', backendOnHandshakeData);
    this.backend.on('data', backendOnData);
    this.backend.on('drain', backendOnDrain);
    this.backend.on('end', backendOnEnd);
    this.client.on('data', clientOnData);
    this.client.on('drain', clientOnDrain);
  }

  open(head: Buffer, rest: Buffer): void {
    this.sm.transition('open', '101 from backend');
    this.client.write(withExtraHeaders(head, this.responseExtra));
    if (rest.length) { this.frames.consume(rest, false); this.owner.stats.bytesOut += rest.length; this.client.write(rest); }
    this.#splice();
    this.client.resume();
    if (this.idleTimeoutMs > 0) { this.timeoutMs = this.idleTimeoutMs; this.owner.track(this); } else this.owner.untrack(this);
    this.owner.tunnelOpened(this);
  }

  /** Refuses the handshake with an HTTP status (only while connecting). */
  fail(status: number, reason: string, backendFault: boolean): void {
    if (this.sm.state !== 'connecting') return;
    abortSocket(this.client, status, reason);
    this.backend.destroy();
    this.owner.tunnelFailed(this, status, reason, backendFault);
    this.#finish('handshake failed');
  }

  /**
   * Closes the tunnel with a WebSocket close code (see the diagram above).
   * While connecting, the client gets HTTP 503 instead. When the backend is
   * in the middle of a frame, the rest of that frame is relayed first.
   * Idempotent.
   */
  close(code: number, reason: string): void {
    const s = this.sm.state;
    if (s === 'connecting') return this.fail(503, reason, false);
    if (s !== 'open') return;
    this.sm.transition('closing', reason);
    this.closeCode = code;
    this.closeReason = reason;
    this.client.off('data', clientOnData);
    // Dropped: after our close frame the client may only answer with its own close.
    this.client.resume();
    this.backend.end();
    this.timeoutMs = CLOSE_TIMEOUT_MS;
    this.owner.track(this);
    if (this.frames.atBoundary) this.sendClose();
    else this.backend.resume();
  }

  /** Writes our close frame (at a frame boundary) and ends the client side; the backend's later bytes are dropped. */
  sendClose(): void {
    if (this.closeSent) return;
    this.closeSent = true;
    this.backend.off('data', backendOnData);
    this.backend.resume();
    this.client.write(closeFrame(this.closeCode, this.closeReason));
    this.client.end();
  }

  /** Aborts both sockets at once (destroy, deadline). */
  destroy(): void {
    this.client.destroy();
    this.backend.destroy();
    this.#finish('destroyed');
  }

  onWheelTimeout(): void {
    switch (this.sm.state) {
      case 'connecting': return this.fail(this.connected ? 504 : 503, this.connected ? 'backend handshake timeout' : 'backend connect timeout', true);
      case 'open': return this.close(1001, 'idle timeout');
      case 'closing': return this.destroy();
      default:
    }
  }

  clientGone(): void {
    if (!this.client.destroyed) this.client.destroy();
    this.backend.destroy();
    this.#finish('client closed');
  }

  backendGone(): void {
    if (this.sm.state === 'connecting') return this.fail(502, 'backend closed the connection during the handshake', true);
    if (this.sm.state === 'closed') return;
    if (this.sm.state === 'open') this.sm.transition('closing', 'backend closed');
    // Our close was waiting for a frame boundary that will never come: send it now.
    if (this.closeCode !== 0) this.sendClose();
    // Let whatever the backend sent (its close frame) flush to the client first.
    this.client.end();
    this.timeoutMs = CLOSE_TIMEOUT_MS;
    this.owner.track(this);
  }

  #finish(reason: string): void {
    if (this.sm.state === 'closed') return;
    this.sm.transition('closed', reason);
    this.owner.untrack(this);
    this.owner.tunnelClosed(this);
  }
}

/** A server-to-client close frame (unmasked, RFC 6455 5.5.1); the reason is cut to fit 123 bytes. */
export function closeFrame(code: number, reason: string): Buffer {
  const r = Buffer.from(reason, 'utf8').subarray(0, 123);
  const frame = Buffer.allocUnsafe(4 + r.length);
  frame[0] = 0x88;
  frame[1] = 2 + r.length;
  frame.writeUInt16BE(code, 2);
  r.copy(frame, 4);
  return frame;
}

function tunnelOf(s: unknown): Tunnel { return (s as { [kTunnel]: Tunnel })[kTunnel]; }

function clientOnData(this: Duplex, chunk: Buffer): void {
  const t = tunnelOf(this);
  t.active = 1;
  t.owner.stats.bytesIn += chunk.length;
  if (!t.backend.write(chunk)) this.pause();
}
function backendOnData(this: Socket, chunk: Buffer): void {
  const t = tunnelOf(this);
  t.active = 1;
  if (t.closeCode !== 0) return backendOnDataWhileClosing(t, chunk);
  t.frames.consume(chunk, false);
  t.owner.stats.bytesOut += chunk.length;
  if (!t.client.write(chunk)) this.pause();
}
/** Relays the rest of the frame in flight, then our close frame. */
function backendOnDataWhileClosing(t: Tunnel, chunk: Buffer): void {
  const n = t.frames.consume(chunk, true);
  if (n > 0) { t.owner.stats.bytesOut += n; t.client.write(n === chunk.length ? chunk : chunk.subarray(0, n)); }
  if (t.frames.atBoundary) t.sendClose();
}
function backendOnDrain(this: Socket): void { tunnelOf(this).client.resume(); }
function clientOnDrain(this: Duplex): void { const t = tunnelOf(this); if (t.state === 'open') t.backend.resume(); }
function clientOnEnd(this: Duplex): void {
  const t = tunnelOf(this);
  if (t.state === 'open') t.backend.end();
  // A client that half-closes before the 101 has given up on the handshake.
  else if (t.state === 'connecting') this.destroy();
}
function backendOnEnd(this: Socket): void {
  const t = tunnelOf(this);
  if (t.closeCode !== 0) t.sendClose();
  t.client.end();
}
function clientOnError(this: Duplex): void { this.destroy(); }
function backendOnError(this: Socket, err: NodeJS.ErrnoException): void {
  const t = tunnelOf(this);
  if (t.state === 'connecting') t.fail(502, `backend connection failed (${err.code ?? err.message})`, true);
  else this.destroy();
}
function backendOnConnect(this: Socket): void { tunnelOf(this).backendConnected(); }
function clientOnClose(this: Duplex): void { tunnelOf(this).clientGone(); }
function backendOnClose(this: Socket): void { tunnelOf(this).backendGone(); }
function backendOnHandshakeData(this: Socket, chunk: Buffer): void { tunnelOf(this).handshakeData(chunk); }
