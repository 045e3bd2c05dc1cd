/**
 * One listener: a TCP server that accepts connections, reads the PROXY
 * header when the listener requires one, counts the connection against the
 * caps, wraps it in TLS when configured, and hands it to an HTTP server that
 * never listens itself (`http.emit('connection')`), once the first request
 * line has been checked (pending-request-line.ts: HTTP/0.9 and unknown
 * versions get 400 at once). The HTTP server enforces the handshake timeout
 * (headersTimeout, 408) and the header size (431); its 'clientError'
 * answers on the raw socket and never throws. CONNECT gets 405.
 *
 *   accept --[PROXY header]--> admit (caps) --[TLS]--> request line --> HTTP parser --> request | upgrade
 */
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { createReuseportFd } from '../../shared/net/reuseport';
import type { ListenerConfig, LimitsConfig } from '../../shared/config/schema';
import { kConn, type ClientConn, type ListenerInfo } from '../conn';
import type { ConnectionLimiter } from '../limits';
import { applyKeepAlive } from '../tcp-keepalive';
import type { TimerWheel } from '../timer-wheel';
import { abortSocket, closeAfterResponse, isHeadRequest, isLastRequest, markLastRequest, pendingResponse } from '../http/abort';
import { sniCallback, type TlsMaterial } from '../tls/secure-contexts';
import { PendingProxyHeader } from './pending-proxy-header';
import { PendingRequestLine, headCompleted, type RequestLineOwner } from './pending-request-line';
import { MAX_HEADER_COUNT } from '../http/request-checks';

/** What a listener calls into. */
export interface ListenerHandlers {
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** A client error (bad request, header overflow, timeout), for counting. */
  onClientError(reason: string): void;
}

/** Everything a listener needs from its node. */
export interface ListenerDeps {
  limiter: ConnectionLimiter;
  wheel: TimerWheel;
  log: Logger;
  handlers: ListenerHandlers;
}

const kListener = Symbol('wsha.listener');

/** One configured listener bound to one address. */
export class Listener implements RequestLineOwner {
  readonly config: ListenerConfig;
  readonly info: ListenerInfo;
  readonly #net: NetServer;
  readonly #http: HttpServer;
  readonly #deps: ListenerDeps;
  #limits: LimitsConfig;
  #tls: TlsMaterial | null;
  /** One SNI callback per listener; it reads the current material, so a reload needs no new callback. */
  readonly #sni: ReturnType<typeof sniCallback>;
  #serving = false;
  /** Every raw socket accepted and not yet closed (for drain and destroy). */
  readonly sockets = new Set<Socket>();

  constructor(config: ListenerConfig, host: string, vip: string | null, limits: LimitsConfig, tls: TlsMaterial | null, deps: ListenerDeps) {
    this.config = config;
    this.info = { name: config.name, vip, proto: config.tls ? 'https' : 'http', host, port: config.port };
    this.#deps = deps;
    this.#limits = limits;
    this.#tls = tls;
    this.#sni = sniCallback(() => this.#tls!);
    this.#net = createNetServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: false });
    (this.#net as any)[kListener] = this;
    this.#net.on('connection', netOnConnection);
    // Accept errors (EMFILE under a connection flood) come per connection: log at most one a second.
    let lastErrorLogMs = 0;
    this.#net.on('error', (err) => {
      // A failed bind is listen()'s to report (its promise rejects; a bind waiting for its address retries).
      if (!this.#serving) return;
      const now = Date.now();
      if (now - lastErrorLogMs >= 1000) { lastErrorLogMs = now; deps.log.error({ err, listener: config.name }, 'listener error'); }
    });
    this.#http = createHttpServer({
      maxHeaderSize: limits.maxHeaderBytes,
      // request-checks.ts answers a missing Host itself and marks the connection, so that nothing is written after that answer.
      requireHostHeader: false,
      headersTimeout: limits.handshakeTimeoutMs,
      requestTimeout: Math.max(limits.requestTimeoutMs, limits.handshakeTimeoutMs),
      connectionsCheckingInterval: checkingIntervalMs(limits),
      keepAliveTimeout: 5000,
    });
    // The first complete head ends the handshake deadline armed at accept (pending-request-line.ts).
    this.#http.on('request', httpOnHead);
    this.#http.on('upgrade', httpOnHead);
    this.#http.on('connect', httpOnHead);
    this.#http.on('request', deps.handlers.onRequest);
    this.#http.on('upgrade', deps.handlers.onUpgrade);
    // request-checks.ts refuses a request that reaches it (Node would drop the rest of its headers silently).
    this.#http.maxHeadersCount = MAX_HEADER_COUNT;
    this.#http.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.#clientError(err, socket));
    // A CONNECT on a keep-alive connection (the first request line refuses it already): never a tunnel to anywhere.
    this.#http.on('connect', (_req: IncomingMessage, socket: Duplex) => { deps.handlers.onClientError('status-405'); abortSocket(socket, 405, 'CONNECT is not supported'); });
    // The HTTP server never listens; 'listening' starts its timeout checker (headersTimeout).
    this.#http.emit('listening');
  }

  get serving(): boolean { return this.#serving; }

  /** Binds and listens; with reusePort, binds with SO_REUSEPORT so that two nodes may share the address. */
  listen(reusePort = false): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => { this.#net.off('listening', onListening); this.dispose(); reject(err); };
      const onListening = () => {
        this.#net.off('error', onError);
        const addr = this.#net.address();
        if (addr && typeof addr === 'object') this.info.port = addr.port;
        this.#serving = true;
        resolve();
      };
      this.#net.once('error', onError);
      this.#net.once('listening', onListening);
      if (reusePort) {
        let fd: number;
        try { fd = createReuseportFd(this.config.port, this.info.host); } catch (err) { this.#net.off('error', onError); this.#net.off('listening', onListening); this.dispose(); return reject(err); }
        this.#net.listen({ fd });
      } else {
        this.#net.listen({ port: this.config.port, host: this.info.host, exclusive: true });
      }
    });
  }

  /** Stops accepting (idempotent); open connections stay. */
  stopAccepting(): Promise<void> {
    if (!this.#serving) return Promise.resolve();
    this.#serving = false;
    // close() drops the listening handle at once; its callback would wait for every connection.
    this.#net.close();
    return Promise.resolve();
  }

  /** Closes idle keep-alive HTTP connections (drain). */
  closeIdle(): void { this.#http.closeIdleConnections(); }

  /** Swaps in new limits (reload); applies to the next header check and connection. */
  setLimits(limits: LimitsConfig): void {
    this.#limits = limits;
    (this.#http as { maxHeaderSize?: number }).maxHeaderSize = limits.maxHeaderBytes;
    this.#http.headersTimeout = limits.handshakeTimeoutMs;
    this.#http.requestTimeout = Math.max(limits.requestTimeoutMs, limits.handshakeTimeoutMs);
  }

  /**
   * Swaps in new TLS material (reload); new handshakes use it, established
   * ones are untouched. Turning TLS on or off needs a restart, so a listener
   * that started without TLS ignores material.
   */
  setTls(tls: TlsMaterial | null): void { if (tls && this.#tls) this.#tls = tls; }

  /** Destroys every connection and the servers (destroy, drain deadline). */
  destroy(): void {
    void this.stopAccepting();
    for (const s of this.sockets) s.destroy();
    this.#http.close(() => {});
  }

  /** Closes the HTTP server's timeout checker once nothing is left. */
  dispose(): void { this.#http.close(() => {}); }

  /** A raw connection came in. */
  accepted(socket: Socket): void {
    (socket as any)[kListener] = this;
    this.sockets.add(socket);
    socket.on('close', socketOnClose);
    socket.on('error', socketOnError);
    applyKeepAlive(socket, this.#limits.tcpKeepAliveMs);
    if (this.config.proxyProtocol) {
      new PendingProxyHeader(socket, this.#limits.handshakeTimeoutMs, this.#deps.wheel, this);
      return;
    }
    const local = socket.localAddress;
    // The listener's own address string when they match: one string per listener, not one per connection.
    this.admitted(socket, socket.remoteAddress ?? '', socket.remotePort ?? 0, local === undefined || local === this.info.host ? this.info.host : local, socket.localPort ?? this.info.port);
    dropAddressCaches(socket);
  }

  /** The client address is known (from the socket or its PROXY header): count it and start HTTP. */
  admitted(socket: Socket, clientAddress: string, clientPort: number, destAddress: string, destPort: number): void {
    const reject = this.#deps.limiter.admit(clientAddress);
    const conn: ClientConn = { listener: this.info, clientAddress, clientPort, destAddress, destPort, reject };
    (socket as any)[kConn] = conn;
    if (!this.#tls) {
      new PendingRequestLine(socket, this.#limits.handshakeTimeoutMs, this.#limits.maxHeaderBytes, this.#deps.wheel, this);
      return;
    }
    const tlsSocket = new TLSSocket(socket, {
      isServer: true,
      secureContext: this.#tls.defaultContext,
      SNICallback: this.#sni,
      ALPNProtocols: ['http/1.1'],
    });
    (tlsSocket as any)[kConn] = conn;
    tlsSocket.on('error', tlsSocketOnError);
    new PendingRequestLine(tlsSocket, this.#limits.handshakeTimeoutMs, this.#limits.maxHeaderBytes, this.#deps.wheel, this);
  }

  /** The first request line is good: Node's HTTP parser takes the connection (with the bytes read so far). */
  requestLineOk(socket: Duplex): void {
    this.#http.emit('connection', socket);
    // Resumed in this tick, so the unshifted bytes reach the parser before anything read later.
    if (socket.isPaused()) socket.resume();
  }

  /** The first request line is refused (bad, unknown version, too long, too slow). */
  requestLineRefused(socket: Duplex, status: number, reason: string, headRequest: boolean): void {
    this.#deps.handlers.onClientError(`status-${status}`);
    abortSocket(socket, status, reason, { headRequest });
  }

  /** The PROXY header was missing, malformed or too slow. */
  refusedProxyHeader(socket: Socket, reason: string): void {
    this.#deps.handlers.onClientError('proxy-protocol');
    this.#deps.log.debug({ listener: this.info.name, remote: socket.remoteAddress, reason }, 'connection refused: PROXY header');
    socket.destroy();
  }

  #clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    headCompleted(socket);
    const code = err.code ?? '';
    if (code === 'ECONNRESET' || code === 'EPIPE' || !socket.writable) { socket.destroy(); return; }
    let status = 400;
    let reason = 'bad request';
    if (code === 'HPE_HEADER_OVERFLOW') { status = 431; reason = `request header larger than ${this.#limits.maxHeaderBytes} bytes`; }
    else if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') { status = 408; reason = `request head not received within ${this.#limits.handshakeTimeoutMs} ms`; }
    else if (code.startsWith('ERR_SSL') || (err as { library?: string }).library === 'SSL routines') { socket.destroy(); this.#deps.handlers.onClientError('tls'); return; }
    this.#deps.handlers.onClientError(`status-${status}`);
    // Bad bytes pipelined behind a request still being answered: that answer goes out whole and is the last.
    const pending = pendingResponse(socket);
    if (pending || isLastRequest(socket)) {
      markLastRequest(socket);
      if (pending) closeAfterResponse(socket, pending);
      return;
    }
    // The parser hands over the packet it failed on: when it opens the connection and is a HEAD, the answer has no body.
    // After an earlier request the packet may start with that one, so the method of the bad request is not known.
    const served = (socket as unknown as Record<symbol, boolean>)[kServed] === true;
    abortSocket(socket, status, reason, { headRequest: !served && isHeadRequest((err as { rawPacket?: Buffer }).rawPacket) });
  }

  /** The raw socket closed: release its slot. */
  socketClosed(socket: Socket): void {
    this.sockets.delete(socket);
    const conn = (socket as any)[kConn] as ClientConn | undefined;
    if (conn && !conn.reject) this.#deps.limiter.release(conn.clientAddress);
  }
}

/** How often Node's HTTP server checks headersTimeout: a quarter of it, within [50, 1000] ms. */
function checkingIntervalMs(limits: LimitsConfig): number {
  return Math.min(1000, Math.max(50, Math.floor(limits.handshakeTimeoutMs / 4)));
}

const kServed = Symbol('wsha.served');
function httpOnHead(req: IncomingMessage): void {
  headCompleted(req.socket);
  (req.socket as unknown as Record<symbol, boolean>)[kServed] = true;
}
/**
 * Node caches a socket's addresses as two objects with their own strings on
 * the socket (`_peername`, `_sockname`); ClientConn holds what we need, so
 * a long-lived tunnel does not keep a second copy (about 200 bytes per
 * connection). A later read asks the kernel again.
 */
function dropAddressCaches(socket: Socket): void {
  const s = socket as unknown as { _peername?: unknown; _sockname?: unknown };
  if (s._peername !== undefined) s._peername = null;
  s._sockname = null;
}
function netOnConnection(this: NetServer, socket: Socket): void { ((this as any)[kListener] as Listener).accepted(socket); }
function socketOnClose(this: Socket): void { ((this as any)[kListener] as Listener).socketClosed(this); }
function socketOnError(this: Socket): void { this.destroy(); }
function tlsSocketOnError(this: TLSSocket): void { this.destroy(); }
