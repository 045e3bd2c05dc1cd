/**
 * One WebSocket tunnel: the backend handshake, then the byte splice between
 * the client socket and the backend socket, and its close.
 *
 *   connecting --verified 101--> open --close(code)--> closing --both gone--> closed
 *       |  \                       |                                            ^
 *       |   +--non-101: relay it, then both end (Connection: close)-------------+
 *       +--bad 101 (502) / refused / timeout / client gone----+--peer closed----+
 *
 * The handshake is written straight onto the tunnel's own backend socket
 * (never pooled, never reused) and the answer read by a strict head reader
 * (response-head.ts); a 101 is checked (handshake.ts) before a byte is
 * spliced, and any other answer is relayed with its body framed
 * (relay-body.ts). What the client sent after its request head is held until then
 * and dropped if no verified 101 comes (issue 10: pipelined bytes must not
 * reach a backend that refused the upgrade).
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
import { abortSocket, endSoon } from '../http/abort';
import { MAX_RESPONSE_HEAD_BYTES, invalid101Reason, relayHead, requestHead, switchingHead } from './handshake';
import { ResponseHeadReader, type ResponseHead } from './response-head';
import { RelayBody, relayFraming } from './relay-body';
import { FrameBoundary } from './frame-boundary';
import { randomFillSync } from 'node:crypto';
import { PASS, CLOSE_TOO_BIG, maskedCloseFrame, type MessageGate } from '../limits/message-gate';
import { BadUpgradeResponseError } from '../../shared/errors';
import type { HandshakeRequest, TunnelInit, TunnelOrigin, TunnelOwner } from './tunnel-types';

export type { HandshakeRequest, TunnelInit, TunnelOrigin, TunnelOwner } from './tunnel-types';

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

/** Back-reference from a socket (and the handshake request) to its tunnel (cross-module internal). */
export const kTunnel = Symbol('wsha.tunnel');

/** One spliced WebSocket connection. */
export class Tunnel implements WheelEntry {
  readonly sm = new StateMachine<TunnelState>('tunnel', 'connecting', TUNNEL_TRANSITIONS);
  readonly client: Duplex;
  readonly backend: Socket;
  readonly target: Backend;
  readonly origin: TunnelOrigin;
  readonly owner: TunnelOwner;
  /** Reads the backend's answer while connecting; null before start() and once it was read. */
  reader: ResponseHeadReader | null = null;
  /** The body of a non-101 answer being relayed, or null. */
  relay: RelayBody | null = null;
  /** What start() sends; dropped once sent (a long-lived tunnel keeps no copy of the request). */
  #handshake: HandshakeRequest | null;
  /** Client bytes held until a verified 101 (null once sent or dropped). */
  held: Buffer | null;
  readonly heldBudget: number;
  /** Sec-WebSocket-Accept the backend's 101 must carry; '' once open (a long-lived tunnel keeps no handshake strings). */
  expectedAccept: string;
  /** Header lines added to the 101 (sticky cookie), '' for none; '' once open. */
  responseExtra: string;
  /** Sticky session key recorded for this tunnel (released when it closes), or null. */
  readonly sessionKey: string | null;
  /** True once the backend TCP (and TLS) connection is up. */
  connected = false;
  readonly headTimeoutMs: number;
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
  // ---- edge (issue 12) ----
  /** Route name, for the labels of policy closes. */
  readonly route: string;
  /** Client-to-backend frame reader (message limits; our close reaches the backend between frames), or null: plain splice. */
  readonly gate: MessageGate | null;
  /** Wall-clock ms when the token expires (closed with 1008 then), 0 for never. */
  readonly expiresAtMs: number;
  /** Bucket of the expiry closer (owned by it). */
  expiryKey = 0;
  /** True once the backend got our close frame (or its FIN) on a gated tunnel. */
  backendCloseSent = false;
  /** False when a limit broke inside a frame header that had begun to pass: the backend then gets a FIN without close frame. */
  inboundClean = true;
  // ---- end edge ----

  constructor(init: TunnelInit) {
    this.client = init.client;
    this.backend = init.backend;
    this.target = init.target;
    this.origin = init.origin;
    this.owner = init.owner;
    this.#handshake = init.request;
    this.held = init.held.length ? init.held : null;
    this.heldBudget = init.heldBudget;
    this.expectedAccept = init.expectedAccept;
    this.responseExtra = init.responseExtra;
    this.sessionKey = init.sessionKey;
    this.headTimeoutMs = init.headTimeoutMs;
    this.idleTimeoutMs = init.idleTimeoutMs;
    this.timeoutMs = init.connectTimeoutMs;
    this.route = init.route;
    this.gate = init.gate;
    this.expiresAtMs = init.expiresAtMs;
    (this.client as any)[kTunnel] = this;
    (this.backend as any)[kTunnel] = this;
    this.client.pause();
    this.client.on('error', clientOnError);
    this.client.on('close', clientOnClose);
    this.client.on('end', clientOnEnd);
    this.backend.on('error', backendOnError);
    this.backend.on('close', backendOnClose);
    this.backend.once(this.target.tls ? 'secureConnect' : 'connect', backendOnConnect);
    this.owner.track(this);
  }

  get state(): TunnelState { return this.sm.state; }

  /** True while a non-101 answer is being relayed to the client. */
  get relaying(): boolean { return this.relay !== null; }

  /** Writes the handshake request on the backend socket (buffered until it connects) and starts reading the answer. */
  start(): void {
    const hs = this.#handshake;
    this.#handshake = null;
    if (this.sm.state !== 'connecting' || !hs) return;
    const head = requestHead(hs.path, hs.headers);
    if (head === null) return this.fail(400, 'request cannot be forwarded', false);
    this.reader = new ResponseHeadReader(MAX_RESPONSE_HEAD_BYTES);
    this.backend.on('data', backendOnHandshakeData);
    // The backend socket allows half-open connections: without this, a FIN instead of an answer (or before the end of a
    // relayed one) would wait for the head timeout.
    this.backend.on('end', backendOnHandshakeEnd);
    this.backend.write(head, 'latin1');
  }

  /** The backend socket is connected: from now on the wait is for its answer. */
  backendConnected(): void {
    if (this.sm.state !== 'connecting') return;
    this.connected = true;
    this.timeoutMs = this.headTimeoutMs;
    this.owner.track(this);
  }

  /** Bytes of the backend's answer before the tunnel opens: its head, then (non-101) the relayed body. */
  handshakeData(chunk: Buffer): void {
    if (this.sm.state !== 'connecting') return;
    if (this.relay) return this.#relayBody(chunk);
    const r = this.reader?.feed(chunk);
    if (!r || r.kind === 'more') return;
    this.reader = null;
    if (r.kind === 'malformed') return this.fail(502, `backend sent a malformed response (${r.why})`, true);
    if (r.head.statusCode !== 101) return this.refused(r.head, r.rest);
    this.backend.off('data', backendOnHandshakeData);
    this.backend.off('end', backendOnHandshakeEnd);
    this.upgraded(r.head, r.rest);
  }

  /** The backend answered 101: verify it, then open. */
  upgraded(res: ResponseHead, rest: Buffer): void {
    if (this.sm.state !== 'connecting') return;
    const bad = invalid101Reason(res, this.expectedAccept);
    if (bad) return this.#badSwitch(bad);
    // Bytes the client pushed before the 101, counted against limits.maxHeaderBytes (RFC 6455 4.1 says it must wait).
    if ((this.held?.length ?? 0) + this.client.readableLength > this.heldBudget) return this.fail(400, 'client sent too much before the 101', false);
    this.open(res, rest);
  }

  /** The backend answered with a final status other than 101: relay it and end both connections. */
  refused(res: ResponseHead, rest: Buffer): void {
    const framing = relayFraming(res);
    if (typeof framing === 'string') return this.fail(502, `backend sent a malformed response (${framing})`, true);
    const status = res.statusCode;
    this.held = null;
    this.relay = new RelayBody(framing.framing, framing.length);
    this.owner.tunnelFailed(this, status, `backend answered the upgrade with ${status}`, status >= 500);
    this.client.write(relayHead(res));
    if (this.relay.done) return this.relayDone(true);
    this.client.on('drain', clientOnRelayDrain);
    if (rest.length) this.#relayBody(rest);
  }

  #relayBody(chunk: Buffer): void {
    const relay = this.relay!;
    if (relay.consume(chunk, relayOut, this)) return this.relayDone(true);
    if (relay.broken) this.relayDone(false);
  }

  #badSwitch(why: string): void {
    const err = new BadUpgradeResponseError(`backend sent an invalid 101 (${why})`);
    this.fail(err.httpStatus ?? 502, err.message, true);
  }

  /** The relayed answer is complete (or broken): both connections end, nothing is reused. */
  relayDone(complete: boolean): void {
    if (this.sm.state !== 'connecting') return;
    this.relay = null;
    this.backend.destroy();
    if (complete) endSoon(this.client); else this.client.destroy();
    this.#finish('upgrade refused by the backend');
  }

  #splice(): void {
    this.backend.on('data', backendOnData);
    this.backend.on('drain', backendOnDrain);
    this.backend.on('end', backendOnEnd);
    this.client.on('data', this.gate ? clientOnDataGated : clientOnData);
    this.client.on('drain', clientOnDrain);
  }

  open(res: ResponseHead, rest: Buffer): void {
    this.sm.transition('open', 'verified 101 from backend');
    this.client.write(switchingHead(res, this.responseExtra));
    this.expectedAccept = '';
    this.responseExtra = '';
    const held = this.held;
    this.held = null;
    if (held) { this.owner.stats.bytesIn += held.length; this.backend.write(held); }
    if (rest.length) { this.frames.consume(rest, false); this.owner.stats.bytesOut += rest.length; this.client.write(rest); }
    this.#splice();
    this.client.resume();
    if (this.idleTimeoutMs > 0) { this.timeoutMs = this.idleTimeoutMs; this.owner.track(this); } else this.owner.untrack(this);
    this.owner.tunnelOpened(this);
  }

  /** Refuses the handshake with an HTTP status (only while connecting); the backend connection is destroyed. */
  fail(status: number, reason: string, backendFault: boolean): void {
    if (this.sm.state !== 'connecting') return;
    this.held = null;
    const relaying = this.relaying;
    if (relaying) this.client.destroy(); else abortSocket(this.client, status, reason);
    this.#dropHandshake();
    this.backend.destroy();
    if (!relaying) this.owner.tunnelFailed(this, status, reason, backendFault);
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
    if (this.gate) {
      // The backend gets our close frame too, once the client's frame in flight (if any) has passed whole.
      if (this.gate.atBoundary) this.sendBackendClose();
    } else {
      this.client.off('data', clientOnData);
      // Dropped: after our close frame the client may only answer with its own close.
      this.client.resume();
      this.backend.end();
    }
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

  /** Gated tunnels: our masked close frame to the backend (client-to-server frames are masked, RFC 6455 5.3), then its FIN. */
  sendBackendClose(): void {
    if (this.backendCloseSent) return;
    this.backendCloseSent = true;
    this.client.off('data', clientOnDataGated);
    this.client.resume();
    if (this.inboundClean && this.backend.writable) {
      const mask = new Uint8Array(4);
      randomFillSync(mask);
      this.backend.write(maskedCloseFrame(this.closeCode, this.closeReason, mask));
    }
    this.backend.end();
  }

  /** Closes an open tunnel because a policy says so (token expired, message limit): both directions, at frame boundaries. */
  policyClose(code: number, reason: string, label: string): void {
    if (this.sm.state !== 'open') return;
    this.owner.tunnelPolicyClosed(this, code, label);
    this.close(code, reason);
  }

  /** The token expired (expiry-closer.ts). */
  closeExpired(): void { this.policyClose(1008, 'token expired', 'token-expired'); }

  /** Aborts both sockets at once (destroy, deadline). */
  destroy(): void {
    this.#dropHandshake();
    this.client.destroy();
    this.backend.destroy();
    this.#finish('destroyed');
  }

  /** Forgets the answer being read or relayed (the tunnel is done with its backend handshake). */
  #dropHandshake(): void {
    this.reader = null;
    this.relay = null;
  }

  onWheelTimeout(): void {
    switch (this.sm.state) {
      case 'connecting':
        if (this.relaying) return this.relayDone(false);
        if (this.connected) return this.fail(504, `backend did not answer the upgrade within ${this.headTimeoutMs} ms`, true);
        return this.fail(503, 'backend connect timeout', true);
      case 'open': return this.close(1001, 'idle timeout');
      case 'closing': return this.destroy();
      default:
    }
  }

  /**
   * One side half-closed and the other got its FIN: the tunnel is closing
   * and has CLOSE_TIMEOUT_MS to finish, so a peer that never answers the
   * FIN cannot hold both sockets (and their fds) for ever.
   */
  halfClosed(reason: string): void {
    if (this.sm.state === 'open') this.sm.transition('closing', reason);
    if (this.sm.state !== 'closing') return;
    this.timeoutMs = CLOSE_TIMEOUT_MS;
    this.owner.track(this);
  }

  clientGone(): void {
    this.#dropHandshake();
    this.held = null;
    if (!this.client.destroyed) this.client.destroy();
    this.backend.destroy();
    this.#finish('client closed');
  }

  backendGone(): void {
    // A relayed answer that ends at the close is complete; one with a length or chunks left is cut short.
    if (this.sm.state === 'connecting' && this.relaying) return this.relayDone(this.relay?.ended() ?? false);
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
/**
 * The client-to-backend splice of a gated tunnel: frame headers are read
 * (never payloads); a frame that breaks a limit is not forwarded, the
 * bytes before it are. While our close waits for the client's frame in
 * flight to end, bytes up to that boundary pass, then the close frame.
 */
function clientOnDataGated(this: Duplex, chunk: Buffer): void {
  const t = tunnelOf(this);
  const gate = t.gate!;
  t.active = 1;
  const closing = t.closeCode !== 0;
  const cut = gate.consume(chunk, Date.now(), closing);
  if (cut === PASS) {
    t.owner.stats.bytesIn += chunk.length;
    if (!t.backend.write(chunk)) this.pause();
    return;
  }
  if (cut > 0) { t.owner.stats.bytesIn += cut; t.backend.write(chunk.subarray(0, cut)); }
  if (closing) return t.sendBackendClose();
  t.inboundClean = gate.cleanCut;
  if (gate.violation === CLOSE_TOO_BIG) t.policyClose(CLOSE_TOO_BIG, 'message too big', 'message-size');
  else t.policyClose(gate.violation, 'message rate limit exceeded', 'message-rate');
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
function clientOnDrain(this: Duplex): void { const t = tunnelOf(this); if (t.state === 'open' || t.state === 'closing') t.backend.resume(); }
function clientOnEnd(this: Duplex): void {
  const t = tunnelOf(this);
  if (t.state === 'open') { t.backend.end(); t.halfClosed('client ended'); }
  // A client that half-closes before the 101 has given up on the handshake.
  else if (t.state === 'connecting') this.destroy();
}
function backendOnEnd(this: Socket): void {
  const t = tunnelOf(this);
  if (t.closeCode !== 0) t.sendClose();
  t.client.end();
  t.halfClosed('backend ended');
}
function clientOnError(this: Duplex): void { this.destroy(); }
function backendOnError(this: Socket, err: NodeJS.ErrnoException): void {
  const t = tunnelOf(this);
  if (t.state === 'connecting' && !t.relaying) t.fail(502, `backend connection failed (${err.code ?? err.message})`, true);
  else this.destroy();
}
function backendOnConnect(this: Socket): void { tunnelOf(this).backendConnected(); }
function clientOnClose(this: Duplex): void { tunnelOf(this).clientGone(); }
function backendOnClose(this: Socket): void { tunnelOf(this).backendGone(); }
/** Relayed body bytes to the client; a slow client pauses the backend (clientOnRelayDrain resumes it). */
function relayOut(t: Tunnel, payload: Buffer): void { if (!t.client.write(payload)) t.backend.pause(); }
function backendOnHandshakeData(this: Socket, chunk: Buffer): void { tunnelOf(this).handshakeData(chunk); }
/** The backend's FIN before the tunnel opened: it ends a close-delimited relay, and fails anything else. */
function backendOnHandshakeEnd(this: Socket): void {
  const t = tunnelOf(this);
  if (t.state !== 'connecting') return;
  if (t.relay) t.relayDone(t.relay.ended());
  else t.fail(502, 'backend closed the connection during the handshake', true);
}
function clientOnRelayDrain(this: Duplex): void { const t = tunnelOf(this); if (t.relaying) t.backend.resume(); }
