/**
 * The data plane's half of VIP ownership: a request (or upgrade) that comes
 * in on a VIP's listener is forwarded only while the control plane's
 * deadline for that VIP (VipHost.fence) has not passed. Past it, the request
 * waits (a stalled control plane re-asserting, a handover target not yet
 * committed) until the deadline moves or is revoked; revoked, it gets 503
 * and its connection closes. At the revoke, responses in flight get
 * `Connection: close`, so no keep-alive connection outlives the ownership.
 *
 *   per VIP:   serve (now < until) --deadline passes--> hold --fence(until')--> serve
 *                 \                                        \
 *                  '------------ fence(null) -------------> refuse
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { monotonicMs } from '../shared/clock';
import { connOf } from './conn';
import { abortSocket } from './http/abort';

/** What a request on a VIP listener may do now. */
export type FenceVerdict = 'serve' | 'hold' | 'refuse';

interface Fence { untilMs: number; revoked: boolean; waiters: Set<(v: 'serve' | 'refuse') => void>; inFlight: Set<ServerResponse> }

const REFUSED = 'this node no longer owns the VIP; retry';

/** Every VIP's fence on this node. */
export class VipFences {
  readonly #fences = new Map<string, Fence>();
  readonly #holdMaxMs: number;

  /** `holdMaxMs`: longest a request waits at a lapsed fence before it is refused. */
  constructor(holdMaxMs: number) { this.#holdMaxMs = holdMaxMs; }

  #fence(vip: string): Fence {
    let f = this.#fences.get(vip);
    // Never fenced: the VIP is not this node's yet (a handover target before its commit): hold.
    if (!f) { f = { untilMs: -Infinity, revoked: false, waiters: new Set(), inFlight: new Set() }; this.#fences.set(vip, f); }
    return f;
  }

  /** Sets the deadline (monotonic ms) or revokes (`null`). */
  set(vip: string, untilMs: number | null): void {
    const f = this.#fence(vip);
    if (untilMs === null) {
      f.revoked = true;
      f.untilMs = -Infinity;
      for (const res of f.inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
      this.#wake(f, 'refuse');
      return;
    }
    f.revoked = false;
    f.untilMs = untilMs;
    if (monotonicMs() < untilMs) this.#wake(f, 'serve');
  }

  /** The verdict for a request on `vip` now. */
  verdict(vip: string): FenceVerdict {
    const f = this.#fence(vip);
    if (f.revoked) return 'refuse';
    return monotonicMs() < f.untilMs ? 'serve' : 'hold';
  }

  #wake(f: Fence, v: 'serve' | 'refuse'): void {
    const list = [...f.waiters];
    f.waiters.clear();
    for (const w of list) w(v);
  }

  /** Waits for a held request: 'serve' once the deadline moves, 'refuse' when revoked or after holdMaxMs. */
  #wait(vip: string): Promise<'serve' | 'refuse'> {
    const f = this.#fence(vip);
    return new Promise((resolve) => {
      const done = (v: 'serve' | 'refuse') => { clearTimeout(timer); f.waiters.delete(done); resolve(v); };
      const timer = setTimeout(() => done('refuse'), this.#holdMaxMs);
      f.waiters.add(done);
    });
  }

  /** Wraps an HTTP request handler: VIP requests are forwarded only inside the fence. */
  request(next: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      const vip = connOf(req.socket)?.listener.vip;
      if (!vip) return next(req, res);
      const go = (v: FenceVerdict) => {
        if (v === 'serve') return this.#forward(vip, req, res, next);
        if (v === 'refuse') return refuseRequest(res);
        void this.#wait(vip).then((w) => (req.socket.destroyed ? undefined : go(w)));
      };
      go(this.verdict(vip));
    };
  }

  /** Wraps an upgrade handler the same way (a refused upgrade gets 503 on the raw socket). */
  upgrade(next: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
    return (req, socket, head) => {
      const vip = connOf(req.socket)?.listener.vip;
      if (!vip) return next(req, socket, head);
      const go = (v: FenceVerdict) => {
        if (v === 'serve') return next(req, socket, head);
        if (v === 'refuse') return abortSocket(socket, 503, REFUSED);
        void this.#wait(vip).then((w) => (socket.destroyed ? undefined : go(w)));
      };
      go(this.verdict(vip));
    };
  }

  #forward(vip: string, req: IncomingMessage, res: ServerResponse, next: (req: IncomingMessage, res: ServerResponse) => void): void {
    const f = this.#fence(vip);
    f.inFlight.add(res);
    res.once('close', () => f.inFlight.delete(res));
    next(req, res);
  }
}

function refuseRequest(res: ServerResponse): void {
  if (res.headersSent) { res.destroy(); return; }
  res.shouldKeepAlive = false;
  const body = `${REFUSED}\n`;
  res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
  res.end(body);
}
