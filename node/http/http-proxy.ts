/**
 * Plain HTTP proxying on the same listeners and pools as the WebSockets:
 * keep-alive agents per backend, hop-by-hop headers dropped, X-Forwarded-*
 * added. Never throws.
 *
 * The access rules (issue 10): a request passes request-checks.ts first
 * (version, Host, target, framing, normalised path; 400 and close when it
 * fails); the backend gets the normalised path that was routed and the
 * same body framing the client used, stated explicitly (Content-Length
 * kept, chunked re-chunked, no body when the client framed none), so no
 * byte of one request can become a request of its own on a pooled
 * socket. A backend socket that saw an error, a timeout or a client that
 * left mid-exchange is destroyed, never returned to the pool.
 *
 *   503  connect slower than limits.backendConnectTimeoutMs
 *   504  no response head within the route's responseHeadTimeoutMs (else
 *        limits.responseHeadTimeoutMs), or no end within requestTimeoutMs
 *   502  the backend failed or sent a malformed response
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { connOf } from '../conn';
import { countRefusal, type NodeRuntime } from '../runtime';
import { selectBackend, type Selection } from '../balance/select';
import type { Backend } from '../pool/backend';
import type { BackendPool } from '../pool/backend-pool';
import type { CompiledRoute } from '../route/router';
import { tlsConnectOptions, type BackendTls } from '../../shared/tls/backend-tls';
import { proxyHeaderFor } from '../upgrade/upgrade-handler';
import { BadPathError, WshaError } from '../../shared/errors';
import { checkRequest, type CheckedRequest } from './request-checks';
import { HOP_BY_HOP, forwardHeaderList } from './forward-headers';
import { refusalTag } from './refusal-tag';
import { isLastRequest, markLastRequest } from './abort';
import { applyEdits } from '../access/edge-headers';
import { denyRequest } from '../access/edge-refusal';
import type { Admitted } from '../access/route-policy';

/** Methods that, sent without a body, are safe to resend once on a keep-alive socket the backend had just closed. */
const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** An `Expect` that Node's server answers with a 100 Continue of its own (its test, in _http_server.js). */
const EXPECT_CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/** Keep-alive agents by backend, made for one TLS setting; dropped with the backend or when the setting changes. */
const agents = new WeakMap<Backend, { agent: http.Agent; tls: BackendTls }>();

function agentFor(b: Backend): http.Agent {
  const held = agents.get(b);
  if (held && held.tls === b.tlsSettings) return held.agent;
  held?.agent.destroy();
  const agent = b.tls
    ? new https.Agent({ keepAlive: true, maxFreeSockets: 64, ...tlsConnectOptions(b.tlsSettings, b.host) })
    : new http.Agent({ keepAlive: true, maxFreeSockets: 64 });
  agents.set(b, { agent, tls: b.tlsSettings });
  return agent;
}

/** Closes the idle keep-alive sockets to a backend (removed from its pool, or node closing). */
export function dropAgent(b: Backend): void {
  agents.get(b)?.agent.destroy();
  agents.delete(b);
}

function reply(res: ServerResponse, status: number, reason: string): void {
  if (res.headersSent) { res.destroy(); return; }
  const body = `${reason}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Answers with `Connection: close` and ignores whatever Node's parser finds
 * after this request on the connection: llhttp dispatches pipelined
 * requests before the first answer is out, and bytes behind a request we
 * refused are not requests we can trust.
 */
function closeAfter(req: IncomingMessage, res: ServerResponse, status: number, reason: string): void {
  markLastRequest(req.socket);
  res.shouldKeepAlive = false;
  reply(res, status, reason);
}

/** Answers a refused request and closes the connection. */
function refuse(rt: NodeRuntime, req: IncomingMessage, res: ServerResponse, err: WshaError): void {
  countRefusal(rt, refusalTag(err));
  closeAfter(req, res, err.httpStatus ?? 400, err.message);
}

/** Handles one 'request' event of a listener's HTTP server. */
export function handleRequest(rt: NodeRuntime, req: IncomingMessage, res: ServerResponse): void {
  proxy(rt, req, res).catch((err) => {
    rt.log.error({ err }, 'http proxy failed');
    reply(res, 500, 'internal error');
  });
}

async function proxy(rt: NodeRuntime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // A request pipelined behind one we refused: never served, the connection closes after that answer.
  if (isLastRequest(req.socket)) return;
  const conn = connOf(req.socket);
  if (!conn) return reply(res, 500, 'connection without listener context');
  if (conn.reject) {
    if (conn.reject.limit === 'maxConnectionsPerClient') rt.denied.record('-', 'client-limit', 429, conn.clientAddress, conn.reject.message);
    countRefusal(rt, conn.reject.limit);
    return closeAfter(req, res, conn.reject.httpStatus ?? 503, conn.reject.message);
  }
  if (rt.draining) res.shouldKeepAlive = false;
  const checked = checkRequest(req);
  if (checked instanceof WshaError) return refuse(rt, req, res, checked);
  // Node's parser treats `Upgrade: websocket` without `Connection: upgrade` as a plain request; refuse it rather than proxy it half-stripped.
  if (req.headers.upgrade && req.headers.upgrade.toLowerCase() === 'websocket') { countRefusal(rt, 'bad-handshake'); return closeAfter(req, res, 400, 'Connection header must include upgrade'); }
  const route = rt.router.match(checked.host, checked.path);
  // An encoded slash is refused unless the route that matched allows it (400 before 404: it is the path that is wrong).
  if (checked.encodedSlash && !route?.allowEncodedSlashes) return refuse(rt, req, res, new BadPathError('encoded slash in path'));
  if (!route) { countRefusal(rt, 'no-route'); return reply(res, 404, 'no route for this host and path'); }
  // ---- edge (issue 12): access, auth and rate limits of the route ----
  const policy = rt.edge.routes[route.index] ?? null;
  let admitted: Admitted | null = null;
  if (policy) {
    const d = await policy.check({ req, kind: 'requests', socketAddress: conn.clientAddress, host: checked.host, path: checked.path, query: checked.query, proto: conn.listener.proto });
    if (res.destroyed || req.socket.destroyed) return;
    if (d instanceof WshaError) return denyRequest(rt, req, res, rt.edge.names[route.index] ?? route.path, d, policy.realm, conn.clientAddress);
    admitted = d;
  }
  // ---- end edge ----
  const pool = rt.pools.get(route.pool);
  const sel = pool ? await selectBackend(pool, rt.view, req, conn.clientAddress, rt.affinityLookupTimeoutMs) : null;
  if (!pool || !sel) { countRefusal(rt, 'no-backend'); return reply(res, 503, `no healthy backend in pool ${route.pool}`); }
  if (res.destroyed || req.socket.destroyed) {
    if (sel.sessionKey !== null) rt.view.affinity.release?.(pool.name, sel.sessionKey);
    return;
  }
  new Exchange(rt, req, res, checked, route, pool, sel, conn.clientAddress, conn.listener.proto, admitted).send(0);
}

/** One request to a backend and its response, with its timers; one shape. */
class Exchange {
  readonly #rt: NodeRuntime;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #checked: CheckedRequest;
  readonly #pool: BackendPool;
  readonly #sel: Selection;
  readonly #b: Backend;
  readonly #headers: string[];
  /** Path and query of the forwarded request line (the token's query parameter removed). */
  readonly #target: string;
  readonly #pp: Buffer | null;
  readonly #retryable: boolean;
  readonly #headTimeoutMs: number;
  readonly #startedMs = Date.now();
  #timer: NodeJS.Timeout | null = null;
  #connectTimer: NodeJS.Timeout | null = null;
  #current: http.ClientRequest | null = null;
  #done = false;
  #gotHead = false;

  constructor(rt: NodeRuntime, req: IncomingMessage, res: ServerResponse, checked: CheckedRequest, route: CompiledRoute, pool: BackendPool, sel: Selection, clientAddress: string, proto: string, admitted: Admitted | null) {
    this.#rt = rt;
    this.#req = req;
    this.#res = res;
    this.#checked = checked;
    this.#pool = pool;
    this.#sel = sel;
    this.#b = sel.backend;
    this.#headers = forwardHeaderList(req, { clientAddress, proto, extra: sel.requestExtra, stickyHeader: pool.config.sticky?.header?.toLowerCase() ?? '', backendHost: sel.backend.authority }, 'http', checked.framing);
    if (admitted) applyEdits(this.#headers, admitted);
    this.#target = checked.path + (admitted?.query ?? checked.query);
    this.#pp = proxyHeaderFor(pool, connOf(req.socket)!);
    this.#retryable = RETRYABLE.has(req.method ?? '') && checked.framing === 'none';
    const total = rt.limits.requestTimeoutMs;
    this.#headTimeoutMs = Math.min(total, route.responseHeadTimeoutMs ?? rt.limits.responseHeadTimeoutMs ?? total);
    this.#b.inFlight++;
    this.#timer = setTimeout(exchangeOnTimeout, this.#headTimeoutMs, this);
    this.#timer.unref();
    res.on('close', () => { if (!res.writableFinished) this.#abandon(); });
  }

  /** Sends the request (attempt 1 is the single retry of a bodiless request on a stale keep-alive socket). */
  send(attempt: number): void {
    const b = this.#b;
    let preq: http.ClientRequest;
    try {
      preq = (b.tls ? https : http).request({
        host: b.host, port: b.port, method: this.#req.method, path: this.#target, headers: this.#headers, setHost: false,
        ...(b.tls ? tlsConnectOptions(b.tlsSettings, b.host) : {}),
        // A PROXY header must open its own TCP connection, so such requests do not reuse sockets.
        ...(this.#pp ? { createConnection: () => connectWithProxyHeader(b, this.#pp!) } : { agent: agentFor(b) }),
      });
    } catch (err) {
      // Header values were checked already; this is a last line against a bad value reaching Node's writer.
      this.#finish(502);
      return reply(this.#res, 502, `cannot forward the request: ${(err as NodeJS.ErrnoException).code ?? 'invalid'}`);
    }
    this.#current = preq;
    preq.on('socket', (s: Socket) => this.#watchConnect(s));
    preq.on('response', (pres) => this.#response(preq, pres));
    preq.on('error', (err: NodeJS.ErrnoException) => this.#error(preq, attempt, err));
    if (this.#checked.framing === 'none') preq.end(); else this.#req.pipe(preq);
  }

  #watchConnect(s: Socket): void {
    if (!s.connecting) return;
    this.#connectTimer = setTimeout(exchangeOnConnectTimeout, this.#rt.limits.backendConnectTimeoutMs, this);
    this.#connectTimer.unref();
    s.once('connect', () => { if (this.#connectTimer) { clearTimeout(this.#connectTimer); this.#connectTimer = null; } });
  }

  #response(preq: http.ClientRequest, pres: IncomingMessage): void {
    if (this.#done) { pres.destroy(); return; }
    // Node hands a 101 to 'response' when it did not switch; a plain request never switches protocols here.
    if ((pres.statusCode ?? 0) < 200) {
      preq.destroy();
      this.#finish(502);
      this.#rt.view.passive.connectFailed(this.#pool.name, this.#b.id, 'switching protocols on a plain request');
      return reply(this.#res, 502, `backend ${this.#b.id} answered a plain request with ${pres.statusCode}`);
    }
    this.#gotHead = true;
    if (!preq.reusedSocket) this.#rt.view.passive.connectSucceeded(this.#pool.name, this.#b.id);
    // The rest of requestTimeoutMs bounds the body.
    this.#restartTimer(Math.max(1, this.#rt.limits.requestTimeoutMs - (Date.now() - this.#startedMs)));
    const out = responseHeaders(pres);
    if (this.#sel.responseExtra) out.push('Set-Cookie', this.#sel.responseExtra.slice('Set-Cookie: '.length, -2));
    try {
      this.#res.writeHead(pres.statusCode ?? 502, pres.statusMessage, out);
      // Node's server queues the 100 Continue of a pipelined request whose answer waits behind an earlier one, and
      // puts a head that goes out with a Buffer body in front of its queue: `head, 100, body` on the wire, the 100
      // inside the body (fuzz case 2750). Sent alone, the head goes behind the 100 (RFC 9110 15.2).
      if (EXPECT_CONTINUE.test(this.#req.headers.expect ?? '')) this.#res.flushHeaders();
    } catch {
      preq.destroy();
      this.#finish(502);
      return reply(this.#res, 502, 'backend sent a response header that cannot be forwarded');
    }
    pres.pipe(this.#res);
    pres.on('end', () => this.#finish(pres.statusCode ?? 502));
    pres.on('error', () => { this.#finish(502); this.#res.destroy(); });
  }

  #error(preq: http.ClientRequest, attempt: number, err: NodeJS.ErrnoException): void {
    if (this.#done) return;
    if (this.#gotHead) { this.#finish(502); this.#res.destroy(); return; }
    // The backend closed an idle keep-alive socket just as we reused it: a bodiless request is safe to send again once.
    if (preq.reusedSocket && attempt === 0 && err.code === 'ECONNRESET' && this.#retryable && !this.#res.headersSent) return this.send(1);
    this.#finish(502);
    if (!preq.reusedSocket) this.#rt.view.passive.connectFailed(this.#pool.name, this.#b.id, err.code ?? err.message);
    reply(this.#res, 502, `backend ${this.#b.id} failed: ${err.code ?? 'bad response'}`);
  }

  timedOut(): void {
    if (this.#done) return;
    this.#finish(504);
    this.#current?.destroy();
    const ms = this.#gotHead ? this.#rt.limits.requestTimeoutMs : this.#headTimeoutMs;
    reply(this.#res, 504, `backend ${this.#b.id} did not answer within ${ms} ms`);
  }

  connectTimedOut(): void {
    this.#connectTimer = null;
    if (this.#done || this.#gotHead) return;
    this.#finish(503);
    this.#current?.destroy();
    this.#rt.view.passive.connectFailed(this.#pool.name, this.#b.id, 'connect timeout');
    reply(this.#res, 503, `backend ${this.#b.id} connect timeout`);
  }

  /** The client went away before the exchange ended: the backend socket goes too (never back to the pool). */
  #abandon(): void {
    if (this.#done) return;
    this.#current?.destroy();
    this.#finish(499);
  }

  #restartTimer(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(exchangeOnTimeout, ms, this);
    this.#timer.unref();
  }

  #finish(status: number): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#b.inFlight--;
    if (this.#sel.sessionKey !== null) this.#rt.view.affinity.release?.(this.#pool.name, this.#sel.sessionKey);
    const key = `${this.#pool.name}\u0000${Math.floor(status / 100)}xx`;
    this.#rt.httpRequests.set(key, (this.#rt.httpRequests.get(key) ?? 0) + 1);
  }
}

function exchangeOnTimeout(x: Exchange): void { x.timedOut(); }
function exchangeOnConnectTimeout(x: Exchange): void { x.connectTimedOut(); }

/** The backend's response headers for the client: hop-by-hop ones and those its Connection names dropped (Node frames the body again). */
export function responseHeaders(pres: IncomingMessage): string[] {
  const raw = pres.rawHeaders;
  const listed = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() !== 'connection') continue;
    for (const t of raw[i + 1].split(',')) { const n = t.trim().toLowerCase(); if (n && n !== 'content-length') listed.add(n); }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !listed.has(lower)) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/** A new connection to `b` that starts with `pp` (before TLS, as the PROXY spec requires). */
export function connectWithProxyHeader(b: Backend, pp: Buffer): Duplex {
  const raw = netConnect({ host: b.host, port: b.port });
  raw.write(pp);
  if (!b.tls) return raw;
  const s = tlsConnect({ socket: raw, host: b.host, ...tlsConnectOptions(b.tlsSettings, b.host) });
  raw.on('error', (err) => s.destroy(err));
  return s;
}
