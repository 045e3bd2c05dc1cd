/**
 * The node-to-node link, client side: one idle TCP connection to every live
 * peer's link port. When one closes, the peer is confirmed dead by a fresh
 * connect to the same port: refused means the process is gone (its kernel
 * closed everything at once); a connect that succeeds means it is alive
 * (the link is re-made); a connect that hangs past node.peer.confirmTimeoutMs
 * proves nothing (a silent host), and the lease TTL decides instead.
 *
 *   standby                       owner (SIGKILLed)
 *      |====== idle TCP link =======|
 *      |<---------- FIN/RST --------|   kernel closes the dead process's sockets
 *      |--- SYN (confirm) --------->|
 *      |<--------- RST -------------|   ECONNREFUSED: nobody listens any more
 *   emit 'dead' -> best-ranked standby runs lease-takeover
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';

/** A peer to watch, from its heartbeat. */
export interface PeerTarget { id: string; peer: string; startedAt: number }

/** Why a peer was declared dead, and how long detection took. */
export interface PeerDeath { id: string; peer: string; detectMs: number; how: 'link-closed' | 'connect-refused' }

/** Pause before re-making a link after an unconfirmed loss or a failed connect. */
const RETRY_MS = 250;
/**
 * Right after a link was lost, retry almost at once: a dying process closes
 * its descriptors one by one, so the confirming connect can still be
 * accepted (or reset) by a listener that is about to vanish.
 */
const RECHECK_MS = 5;
const RECHECK_WINDOW_MS = 1000;

type WatchState = 'connecting' | 'connected' | 'confirming' | 'dead' | 'closed';

class Watch {
  state: WatchState = 'connecting';
  socket: Socket | undefined;
  timer: NodeJS.Timeout | undefined;
  /** When the last established link was lost (monotonic ms), -Infinity if never. */
  lostAt = -Infinity;
  constructor(readonly target: PeerTarget, readonly host: string, readonly port: number) {}
}

function splitHostPort(hp: string): { host: string; port: number } {
  const i = hp.lastIndexOf(':');
  return { host: hp.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(hp.slice(i + 1)) };
}

/** Watches every peer; emits 'dead' (PeerDeath) once per peer incarnation. */
export class PeerMesh extends EventEmitter {
  readonly #watches = new Map<string, Watch>();
  #closed = false;

  constructor(readonly selfId: string, readonly confirmTimeoutMs: number, readonly logger: Logger) { super(); }

  /** Keeps links to exactly these peers (self is skipped); a restarted peer gets a new link. */
  update(targets: readonly PeerTarget[]): void {
    if (this.#closed) return;
    const want = new Set<string>();
    for (const t of targets) {
      if (t.id === this.selfId || !t.peer) continue;
      const key = `${t.id}@${t.peer}@${t.startedAt}`;
      want.add(key);
      if (!this.#watches.has(key)) {
        const { host, port } = splitHostPort(t.peer);
        const w = new Watch(t, host, port);
        this.#watches.set(key, w);
        this.#open(w);
      }
    }
    for (const [key, w] of this.#watches) if (!want.has(key)) this.#drop(key, w);
  }

  /** Peers currently linked. */
  connected(): string[] {
    return [...this.#watches.values()].filter((w) => w.state === 'connected').map((w) => w.target.id);
  }

  close(): void {
    this.#closed = true;
    for (const [key, w] of this.#watches) this.#drop(key, w);
  }

  #drop(key: string, w: Watch): void {
    w.state = 'closed';
    clearTimeout(w.timer);
    w.socket?.destroy();
    this.#watches.delete(key);
  }

  #open(w: Watch): void {
    if (w.state === 'closed' || this.#closed) return;
    w.state = 'connecting';
    const s = connect({ host: w.host, port: w.port, noDelay: true });
    w.socket = s;
    s.setKeepAlive(true, 1000);
    s.on('connect', () => {
      if (w.state !== 'connecting') return;
      w.state = 'connected';
      this.logger.debug({ peer: w.target.id, address: w.target.peer }, 'peer link up');
    });
    s.on('data', () => {});
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (w.state === 'connecting' && err.code === 'ECONNREFUSED') this.#declareDead(w, Number.isFinite(w.lostAt) ? w.lostAt : performance.now(), 'connect-refused');
    });
    s.on('close', () => {
      this.logger.debug({ peer: w.target.id, state: w.state }, 'peer link closed');
      if (w.state === 'connected') { w.lostAt = performance.now(); this.#confirm(w, w.lostAt); }
      else if (w.state === 'connecting') this.#retry(w, performance.now() - w.lostAt < RECHECK_WINDOW_MS ? RECHECK_MS : RETRY_MS);
    });
  }

  #retry(w: Watch, inMs = RETRY_MS): void {
    if (w.state === 'closed' || w.state === 'dead') return;
    clearTimeout(w.timer);
    w.timer = setTimeout(() => this.#open(w), inMs);
  }

  /** The link closed: a fresh connect tells a dead process from a live one. */
  #confirm(w: Watch, lostAt: number): void {
    w.state = 'confirming';
    const probe = connect({ host: w.host, port: w.port });
    const timer = setTimeout(() => {
      probe.destroy();
      if (w.state !== 'confirming') return;
      this.logger.warn({ peer: w.target.id, timeoutMs: this.confirmTimeoutMs }, 'peer link lost, death not confirmed; the lease TTL decides');
      this.#retry(w);
    }, this.confirmTimeoutMs);
    probe.on('connect', () => {
      clearTimeout(timer);
      probe.destroy();
      if (w.state === 'confirming') this.#open(w);
    });
    probe.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (w.state !== 'confirming') return;
      if (err.code === 'ECONNREFUSED') this.#declareDead(w, lostAt, 'link-closed');
      else this.#retry(w);
    });
  }

  #declareDead(w: Watch, since: number, how: PeerDeath['how']): void {
    if (w.state === 'dead' || w.state === 'closed') return;
    w.state = 'dead';
    const death: PeerDeath = { id: w.target.id, peer: w.target.peer, detectMs: performance.now() - since, how };
    this.logger.warn(death, 'peer confirmed dead');
    this.emit('dead', death);
  }
}
