/**
 * The phase of a connection between accept (after its PROXY header and TLS
 * handshake, when used) and Node's HTTP parser: read until the first request
 * line is complete, check it (request-line.ts), then hand the socket to the
 * HTTP server with the bytes put back (`unshift`). A line wsha does not
 * speak is answered at once; a client that sends nothing, or too little,
 * gets 408 at the handshake timeout (an absolute deadline on the wheel).
 * The deadline stays armed after the hand-over until the first request
 * head is complete (headCompleted), so that a client dripping its request
 * line and then its headers gets one handshake timeout, not two. Only the
 * first request of a connection passes here: later keep-alive requests are
 * checked by the handlers (request-checks.ts).
 */
import type { Duplex } from 'node:stream';
import type { TimerWheel, WheelEntry } from '../timer-wheel';
import { checkRequestLine } from './request-line';
import { isHeadRequest } from '../http/abort';

/** What the pending phase reports to. */
export interface RequestLineOwner {
  /** The line is good: start HTTP on `socket` (paused, the bytes read so far unshifted). */
  requestLineOk(socket: Duplex): void;
  /** Answer `status` and close (`headRequest`: the line was a HEAD, so the answer has no body). */
  requestLineRefused(socket: Duplex, status: number, reason: string, headRequest: boolean): void;
}

const kPendingLine = Symbol('wsha.pendingRequestLine');

/** One connection waiting for its first request line. */
export class PendingRequestLine implements WheelEntry {
  readonly socket: Duplex;
  readonly owner: RequestLineOwner;
  readonly wheel: TimerWheel;
  readonly maxBytes: number;
  buf: Buffer | null = null;
  /** True once the socket went to the HTTP parser (the deadline still runs until the head is complete). */
  handedOver = false;
  active = 0;
  idleMs = 0;
  timeoutMs: number;

  constructor(socket: Duplex, timeoutMs: number, maxBytes: number, wheel: TimerWheel, owner: RequestLineOwner) {
    this.socket = socket;
    this.owner = owner;
    this.wheel = wheel;
    this.maxBytes = maxBytes;
    this.timeoutMs = timeoutMs;
    (socket as any)[kPendingLine] = this;
    socket.on('data', pendingOnData);
    socket.on('end', pendingOnEnd);
    socket.on('close', pendingOnClose);
    wheel.track(this);
    // After a PROXY header the socket was paused with the rest unshifted.
    if (socket.isPaused()) socket.resume();
  }

  data(chunk: Buffer): void {
    const buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    const v = checkRequestLine(buf, this.maxBytes);
    if (v.state === 'need-more') { this.buf = buf; return; }
    this.#stopReading();
    if (v.state === 'bad') { this.wheel.untrack(this); return this.owner.requestLineRefused(this.socket, v.status, v.reason, isHeadRequest(buf)); }
    this.handedOver = true;
    this.socket.once('close', pendingOnClose);
    this.socket.pause();
    this.socket.unshift(buf);
    this.owner.requestLineOk(this.socket);
  }

  /** The HTTP parser has the first request head (or gave up on it): the deadline is off. */
  headCompleted(): void {
    this.socket.off('close', pendingOnClose);
    this.wheel.untrack(this);
    (this.socket as any)[kPendingLine] = undefined;
  }

  /** The client half-closed before its line was complete. */
  ended(): void {
    const buf = this.buf;
    this.#done();
    if (buf !== null && buf.length > 0) this.owner.requestLineRefused(this.socket, 400, 'connection closed inside the request line', isHeadRequest(buf));
    else this.socket.destroy();
  }

  #stopReading(): void {
    this.buf = null;
    this.socket.off('data', pendingOnData);
    this.socket.off('end', pendingOnEnd);
    this.socket.off('close', pendingOnClose);
  }

  #done(): void {
    this.#stopReading();
    this.wheel.untrack(this);
  }

  onWheelTimeout(): void {
    if (this.handedOver) {
      // The line came, the rest of the head did not: same answer as Node's headersTimeout, once.
      this.headCompleted();
      return this.owner.requestLineRefused(this.socket, 408, 'request head not received in time', false);
    }
    const head = isHeadRequest(this.buf ?? undefined);
    this.#done();
    this.owner.requestLineRefused(this.socket, 408, 'request line not received in time', head);
  }

  closed(): void {
    if (this.handedOver) return this.headCompleted();
    this.#done();
  }
}

/** Tells the pending phase of `socket` (if any) that its first request head is complete. */
export function headCompleted(socket: unknown): void {
  const p = (socket as any)?.[kPendingLine] as PendingRequestLine | undefined;
  if (p) p.headCompleted();
}

function pendingOf(s: Duplex): PendingRequestLine { return (s as any)[kPendingLine] as PendingRequestLine; }
function pendingOnData(this: Duplex, chunk: Buffer): void { pendingOf(this).data(chunk); }
function pendingOnEnd(this: Duplex): void { pendingOf(this).ended(); }
function pendingOnClose(this: Duplex): void { pendingOf(this).closed(); }
