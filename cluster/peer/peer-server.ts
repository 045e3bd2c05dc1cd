/**
 * The peer link, listening side. Every connection must authenticate with
 * the cluster secret (peer-auth.ts) within cluster.peer.authTimeoutMs or is
 * closed; at most cluster.peer.maxConnections are open at once; failures are
 * counted in wsha_peer_auth_failures_total. After the handshake it answers
 * beats (with grants when asked) and `bye` from nodes, and `state?` from
 * nodes and tools (the CLI, a sampler); anything malformed or
 * with a bad MAC closes the connection. Nothing a connection sends can take
 * the node down.
 *
 * When this process dies, the kernel closes these connections at once, and
 * (once the VIP guard has let go of its copy of the listening socket) a
 * fresh connect is refused: that is how a standby sees and confirms a dead
 * owner without waiting for a timeout.
 */
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Metrics } from '../../shared/metrics';
import type { Clock } from '../../shared/clock';
import { freshNonce, handshakeMac, macEqual, sessionKey, type PeerIdentity, type PeerRole } from './peer-auth';
import { FrameSigner, FrameVerifier, LineSplitter, handshakeLine, parseHandshakeLine } from './peer-frame';
import { parsePeerMessage, type BeatMsg, type GrantsMsg } from './peer-messages';

/** What the server asks of the node. */
export interface PeerServerHandlers {
  /** A beat from an authenticated peer, read at `arrivedMs` (monotonic); returns the grants when the beat asks for any. */
  onBeat(from: PeerIdentity, beat: BeatMsg, arrivedMs: number): GrantsMsg | null;
  /** A peer said goodbye (graceful stop). */
  onBye(from: PeerIdentity): void;
  /** An authenticated connection from a peer opened (true) or closed (false). */
  onInbound(from: PeerIdentity, up: boolean): void;
  /** The node's ownership snapshot, for `state?`. */
  snapshot(): unknown;
}

/** Construction options. */
export interface PeerServerOptions {
  cluster: string;
  self: PeerIdentity;
  secret: Buffer;
  authTimeoutMs: number;
  maxConnections: number;
  maxLineBytes: number;
  handlers: PeerServerHandlers;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

/** States of one inbound connection. */
type InboundState = 'hello-sent' | 'authenticated' | 'closed';

/** One accepted connection and its handshake. */
class Inbound {
  state: InboundState = 'hello-sent';
  readonly nonce = freshNonce();
  readonly lines: LineSplitter;
  peer: PeerIdentity | null = null;
  role: PeerRole = 'tool';
  signer: FrameSigner | null = null;
  verifier: FrameVerifier | null = null;
  timer: NodeJS.Timeout;

  constructor(readonly server: PeerServer, readonly socket: Socket) {
    const o = server.o;
    this.lines = new LineSplitter(o.maxLineBytes);
    this.timer = setTimeout(() => this.fail('auth-timeout'), o.authTimeoutMs);
    this.timer.unref();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    socket.write(handshakeLine('HELLO', { v: 1, cluster: o.cluster, node: o.self.node, inc: o.self.inc, nonce: this.nonce }));
  }

  onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    const lines = this.lines.push(chunk);
    if (lines === null) return this.fail('line-too-long');
    for (const line of lines) {
      if ((this.state as InboundState) === 'closed') return;
      if (this.state === 'hello-sent') this.onAuth(line);
      else this.onMessage(line);
    }
  }

  onAuth(line: string): void {
    const o = this.server.o;
    const h = parseHandshakeLine(line);
    const b = h?.body;
    if (!h || h.word !== 'AUTH' || !b || typeof b.node !== 'string' || typeof b.inc !== 'string' || typeof b.nonce !== 'string' || typeof b.mac !== 'string') return this.fail('malformed');
    if (b.role !== 'node' && b.role !== 'tool') return this.fail('malformed');
    const client = { node: b.node, inc: b.inc };
    const role: PeerRole = b.role;
    const want = handshakeMac(o.secret, 'c', o.cluster, this.nonce, b.nonce, client, o.self, role);
    if (!macEqual(b.mac, want)) return this.fail('bad-mac');
    clearTimeout(this.timer);
    this.peer = client;
    this.role = role;
    const key = sessionKey(o.secret, this.nonce, b.nonce);
    this.signer = new FrameSigner(key, 's');
    this.verifier = new FrameVerifier(key, 'c');
    this.state = 'authenticated';
    this.socket.write(handshakeLine('OK', { mac: handshakeMac(o.secret, 's', o.cluster, this.nonce, b.nonce, client, o.self, role) }));
    if (role === 'node') o.handlers.onInbound(client, true);
  }

  onMessage(line: string): void {
    const raw = this.verifier!.open(line);
    const msg = raw && parsePeerMessage(raw);
    if (!msg) return this.fail('bad-message');
    const h = this.server.o.handlers;
    switch (msg.t) {
      case 'beat': {
        if (this.role !== 'node') return this.fail('tool-beat');
        const reply = h.onBeat(this.peer!, msg, this.server.o.clock.nowMs());
        if (reply) this.send(reply);
        return;
      }
      case 'state?': return this.send({ t: 'state', id: msg.id, snapshot: h.snapshot() });
      case 'bye': return this.role === 'node' ? h.onBye(this.peer!) : this.fail('tool-beat');
      default: return this.fail('bad-message');
    }
  }

  send(msg: object): void {
    if (this.state !== 'authenticated' || !this.socket.writable) return;
    this.socket.write(this.signer!.line(msg));
  }

  fail(reason: string): void {
    if (this.state === 'closed') return;
    const o = this.server.o;
    o.metrics.peerAuthFailuresTotal.inc({ reason });
    o.logger.debug({ remote: this.socket.remoteAddress, reason, peer: this.peer?.node }, 'peer connection refused');
    this.close();
  }

  close(): void {
    if (this.state === 'closed') return;
    const wasAuthenticated = this.state === 'authenticated';
    this.state = 'closed';
    clearTimeout(this.timer);
    this.socket.destroy();
    this.server.forget(this);
    if (wasAuthenticated && this.role === 'node') this.server.o.handlers.onInbound(this.peer!, false);
  }
}

/** Listens on node.peer.listen and serves authenticated peers. */
export class PeerServer {
  readonly o: PeerServerOptions;
  readonly #server: Server;
  readonly #conns = new Set<Inbound>();
  #address = '';

  constructor(o: PeerServerOptions) {
    this.o = o;
    this.#server = createServer({ noDelay: true }, (s) => this.#accept(s));
    this.#server.on('error', (err) => o.logger.error({ err }, 'peer link listener error'));
  }

  #accept(s: Socket): void {
    if (this.#conns.size >= this.o.maxConnections) {
      this.o.metrics.peerAuthFailuresTotal.inc({ reason: 'too-many' });
      s.on('error', () => {});
      s.destroy();
      return;
    }
    s.on('error', () => {});
    this.#conns.add(new Inbound(this, s));
    this.o.metrics.peerConnections.set(this.#conns.size);
  }

  /** Called by a connection that closed. */
  forget(c: Inbound): void {
    this.#conns.delete(c);
    this.o.metrics.peerConnections.set(this.#conns.size);
  }

  /** Binds HOST:PORT (port 0 picks a free port); resolves with the bound HOST:PORT. */
  listen(hostPort: string): Promise<string> {
    const i = hostPort.lastIndexOf(':');
    const host = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(hostPort.slice(i + 1));
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host, port, backlog: 1024 }, () => {
        this.#server.off('error', reject);
        const a = this.#server.address() as AddressInfo;
        this.#address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
        resolve(this.#address);
      });
    });
  }

  /** The bound HOST:PORT ('' before listen). */
  get address(): string { return this.#address; }

  /** The listening socket's file descriptor (handed to the VIP guard), or -1. */
  get fd(): number {
    const h = (this.#server as unknown as { _handle?: { fd?: number } })._handle;
    return typeof h?.fd === 'number' ? h.fd : -1;
  }

  /** Open node connections that authenticated, by peer node id. */
  authenticatedPeers(): string[] {
    return [...this.#conns].filter((c) => c.state === 'authenticated' && c.role === 'node' && c.peer).map((c) => c.peer!.node);
  }

  /** Closes the listener and every connection (peers then see this node as gone). */
  close(): Promise<void> {
    for (const c of [...this.#conns]) c.close();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
