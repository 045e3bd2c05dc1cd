/**
 * The node-to-node link, server side. Peers keep one idle TCP connection
 * to it: when this process dies, the kernel closes those connections at
 * that instant, and a fresh connect is refused, which is how standbys see
 * and confirm a dead owner without waiting for a timeout.
 *
 * It also answers one line, `state\n`, with this node's ownership snapshot
 * as one JSON line (used by tests' sampler and for debugging). Anything else
 * is ignored; nothing a peer sends can hurt the node.
 */
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** Longest request line accepted; longer input closes the connection. */
const MAX_LINE_BYTES = 256;

interface PeerConn { buf: string; server: PeerServer }
const kPeer = Symbol('wsha.peer');
type PeerSocket = Socket & { [kPeer]?: PeerConn };

function socketOnData(this: PeerSocket, chunk: Buffer): void {
  const c = this[kPeer];
  if (!c) return;
  c.buf += chunk.toString('latin1');
  if (c.buf.length > MAX_LINE_BYTES) { this.destroy(); return; }
  let nl: number;
  while ((nl = c.buf.indexOf('\n')) >= 0) {
    const line = c.buf.slice(0, nl).trim();
    c.buf = c.buf.slice(nl + 1);
    if (line === 'state') this.write(`${JSON.stringify(c.server.snapshot())}\n`);
  }
}

function socketOnError(): void { /* a peer going away is expected */ }

/** Listens on node.peer.listen and keeps its connections until closed. */
export class PeerServer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly snapshot: () => unknown;
  #address = '';

  constructor(snapshot: () => unknown, readonly logger: Logger) {
    this.snapshot = snapshot;
    this.#server = createServer((s: PeerSocket) => {
      s.setNoDelay(true);
      s[kPeer] = { buf: '', server: this };
      this.#sockets.add(s);
      s.on('data', socketOnData);
      s.on('error', socketOnError);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  /** Binds HOST:PORT (port 0 picks a free port); resolves with the bound HOST:PORT to advertise. */
  listen(hostPort: string): Promise<string> {
    const i = hostPort.lastIndexOf(':');
    const host = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(hostPort.slice(i + 1));
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host, port }, () => {
        this.#server.off('error', reject);
        const a = this.#server.address() as AddressInfo;
        this.#address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
        this.logger.info({ peer: this.#address }, 'peer link listening');
        resolve(this.#address);
      });
    });
  }

  /** The bound HOST:PORT ('' before listen). */
  get address(): string { return this.#address; }

  /** Closes the listener and every peer connection (peers then see this node as gone). */
  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
