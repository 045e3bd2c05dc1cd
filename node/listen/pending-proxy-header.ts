/**
 * The first phase of a connection on a `proxyProtocol: true` listener: read
 * bytes until the PROXY header is complete, then hand the socket on with the
 * address the header carries (the rest goes back into the socket with
 * `unshift`). A connection whose first bytes cannot be a PROXY header, or
 * that does not finish it within the handshake timeout, is closed.
 */
import type { Socket } from 'node:net';
import type { TimerWheel, WheelEntry } from '../timer-wheel';
import { parseProxyHeader } from './proxy-protocol';

/** What the pending phase reports to. */
export interface ProxyHeaderOwner {
  admitted(socket: Socket, clientAddress: string, clientPort: number, destAddress: string, destPort: number): void;
  refusedProxyHeader(socket: Socket, reason: string): void;
}

const kPending = Symbol('wsha.pendingProxyHeader');

/** One connection waiting for its PROXY header; an absolute deadline on the wheel. */
export class PendingProxyHeader implements WheelEntry {
  readonly socket: Socket;
  readonly owner: ProxyHeaderOwner;
  readonly wheel: TimerWheel;
  buf: Buffer | null = null;
  active = 0;
  idleMs = 0;
  timeoutMs: number;

  constructor(socket: Socket, timeoutMs: number, wheel: TimerWheel, owner: ProxyHeaderOwner) {
    this.socket = socket;
    this.owner = owner;
    this.wheel = wheel;
    this.timeoutMs = timeoutMs;
    (socket as any)[kPending] = this;
    socket.on('data', pendingOnData);
    socket.on('close', pendingOnClose);
    wheel.track(this);
  }

  data(chunk: Buffer): void {
    const buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    const r = parseProxyHeader(buf);
    if (r.state === 'need-more') { this.buf = buf; return; }
    this.#done();
    if (r.state === 'invalid') return this.owner.refusedProxyHeader(this.socket, r.reason);
    const h = r.header;
    // LOCAL (health checks of the balancer itself) and UNKNOWN carry no client: use the peer.
    const address = h.command === 'PROXY' && h.sourceAddress ? h.sourceAddress : this.socket.remoteAddress ?? '';
    const port = h.command === 'PROXY' && h.sourcePort !== undefined ? h.sourcePort : this.socket.remotePort ?? 0;
    const destAddress = h.command === 'PROXY' && h.destAddress ? h.destAddress : this.socket.localAddress ?? '';
    const destPort = h.command === 'PROXY' && h.destPort !== undefined ? h.destPort : this.socket.localPort ?? 0;
    this.socket.pause();
    const rest = buf.subarray(r.consumed);
    if (rest.length) this.socket.unshift(rest);
    this.owner.admitted(this.socket, address, port, destAddress, destPort);
  }

  #done(): void {
    this.buf = null;
    this.socket.off('data', pendingOnData);
    this.socket.off('close', pendingOnClose);
    this.wheel.untrack(this);
  }

  onWheelTimeout(): void {
    this.#done();
    this.owner.refusedProxyHeader(this.socket, 'PROXY header not received in time');
  }

  closed(): void { this.#done(); }
}

function pendingOnData(this: Socket, chunk: Buffer): void { ((this as any)[kPending] as PendingProxyHeader).data(chunk); }
function pendingOnClose(this: Socket): void { ((this as any)[kPending] as PendingProxyHeader).closed(); }
