/**
 * Plain HTTP proxying on the same listeners and pools as the WebSockets:
 * keep-alive agents per backend, hop-by-hop headers dropped, X-Forwarded-*
 * added, 504 when the backend takes longer than requestTimeoutMs, 502 when
 * it fails. Never throws.
 */
import http, { type IncomingMessage, type ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { connOf } from '../conn';
import { countRefusal, type NodeRuntime } from '../runtime';
import { selectBackend } from '../balance/select';
import type { Backend } from '../pool/backend';
import { proxyHeaderFor } from '../upgrade/upgrade-handler';

/** Hop-by-hop headers (RFC 9110 7.6.1) that never cross the proxy. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);

/** Methods that, sent without a body, are safe to resend once on a keep-alive socket the backend had just closed. */
const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Keep-alive agents by backend; dropped with the backend. */
const agents = new WeakMap<Backend, http.Agent>();

function agentFor(b: Backend): http.Agent {
  let a = agents.get(b);
  if (!a) {
    a = b.tls ? new https.Agent({ keepAlive: true, maxFreeSockets: 64 }) : new http.Agent({ keepAlive: true, maxFreeSockets: 64 });
    agents.set(b, a);
  }
  return a;
}

/** Closes the idle keep-alive sockets to a backend (removed from its pool, or node closing). */
export function dropAgent(b: Backend): void {
  agents.get(b)?.destroy();
  agents.delete(b);
}

function reply(res: ServerResponse, status: number, reason: string): void {
  if (res.headersSent) { res.destroy(); return; }
  const body = `${reason}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Handles one 'request' event of a listener's HTTP server. */
export function handleRequest(rt: NodeRuntime, req: IncomingMessage, res: ServerResponse): void {
  proxy(rt, req, res).catch((err) => {
    rt.log.error({ err }, 'http proxy failed');
    reply(res, 500, 'internal error');
  });
}

async function proxy(rt: NodeRuntime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const conn = connOf(req.socket);
  if (!conn) return reply(res, 500, 'connection without listener context');
  if (conn.reject) {
    countRefusal(rt, conn.reject.limit);
    res.shouldKeepAlive = false;
    return reply(res, conn.reject.httpStatus ?? 503, conn.reject.message);
  }
  if (rt.draining) res.shouldKeepAlive = false;
  // Node's parser treats `Upgrade: websocket` without `Connection: upgrade` as a plain request; refuse it rather than proxy it half-stripped.
  if (req.headers.upgrade && req.headers.upgrade.toLowerCase() === 'websocket') { countRefusal(rt, 'bad-handshake'); res.shouldKeepAlive = false; return reply(res, 400, 'Connection header must include upgrade'); }
  const route = rt.router.match(req.headers.host, req.url ?? '/');
  if (!route) { countRefusal(rt, 'no-route'); return reply(res, 404, `no route for ${req.headers.host ?? ''}${req.url ?? ''}`); }
  const pool = rt.pools.get(route.pool);
  const sel = pool ? await selectBackend(pool, rt.view, req, conn.clientAddress, rt.affinityLookupTimeoutMs) : null;
  if (!pool || !sel) { countRefusal(rt, 'no-backend'); return reply(res, 503, `no healthy backend in pool ${route.pool}`); }
  const b = sel.backend;
  const headers = forwardHeaders(req, conn.clientAddress, conn.listener.proto, sel.requestExtra);
  b.inFlight++;
  let done = false;
  const finish = (status: number) => {
    if (done) return;
    done = true;
    b.inFlight--;
    if (sel.sessionKey !== null) rt.view.affinity.release?.(pool.name, sel.sessionKey);
    const key = `${pool.name}\u0000${Math.floor(status / 100)}xx`;
    rt.httpRequests.set(key, (rt.httpRequests.get(key) ?? 0) + 1);
  };
  const pp = proxyHeaderFor(pool, conn);
  const timer = setTimeout(() => {
    finish(504);
    current?.destroy();
    reply(res, 504, `backend ${b.id} did not answer within ${rt.limits.requestTimeoutMs} ms`);
  }, rt.limits.requestTimeoutMs);
  timer.unref();
  let current: http.ClientRequest | null = null;
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  const retryable = RETRYABLE.has(req.method ?? '') && !te && (!cl || cl === '0');
  const send = (attempt: number): void => {
    const preq = (b.tls ? https : http).request({
      host: b.host, port: b.port, method: req.method, path: req.url, headers, setHost: false,
      // A PROXY header must open its own TCP connection, so such requests do not reuse sockets.
      ...(pp ? { createConnection: () => connectWithProxyHeader(b, pp) } : { agent: agentFor(b) }),
    });
    current = preq;
    preq.on('response', (pres) => {
      if (!preq.reusedSocket) rt.view.passive.connectSucceeded(pool.name, b.id);
      const raw = pres.rawHeaders;
      const out: string[] = [];
      for (let i = 0; i < raw.length; i += 2) if (!HOP_BY_HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
      if (sel.responseExtra) out.push('Set-Cookie', sel.responseExtra.slice('Set-Cookie: '.length, -2));
      res.writeHead(pres.statusCode ?? 502, pres.statusMessage, out);
      pres.pipe(res);
      pres.on('end', () => { clearTimeout(timer); finish(pres.statusCode ?? 502); });
      pres.on('error', () => { clearTimeout(timer); finish(502); res.destroy(); });
    });
    preq.on('error', (err: NodeJS.ErrnoException) => {
      if (done) return;
      // The backend closed an idle keep-alive socket just as we reused it: a bodiless request is safe to send again once.
      if (preq.reusedSocket && attempt === 0 && err.code === 'ECONNRESET' && retryable && !res.headersSent) return send(1);
      clearTimeout(timer);
      finish(502);
      if (!preq.reusedSocket) rt.view.passive.connectFailed(pool.name, b.id, err.code ?? err.message);
      reply(res, 502, `backend ${b.id} failed: ${err.code ?? err.message}`);
    });
    if (retryable) preq.end(); else req.pipe(preq);
  };
  res.on('close', () => { if (!res.writableFinished) { clearTimeout(timer); current?.destroy(); finish(499); } });
  send(0);
}

/** A new connection to `b` that starts with `pp` (before TLS, as the PROXY spec requires). */
function connectWithProxyHeader(b: Backend, pp: Buffer): Duplex {
  const raw = netConnect({ host: b.host, port: b.port });
  raw.write(pp);
  if (!b.tls) return raw;
  return tlsConnect({ socket: raw, servername: isIP(b.host) ? undefined : b.host, ALPNProtocols: ['http/1.1'] });
}

/** Request headers for the backend: hop-by-hop dropped, X-Forwarded-For appended, Proto and Host set. */
export function forwardHeaders(req: IncomingMessage, clientAddress: string, proto: string, requestExtra: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = new Set((req.headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean));
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || listed.has(k)) continue;
    out[k] = v;
  }
  const prior = req.headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${prior}, ${clientAddress}` : clientAddress;
  out['x-forwarded-proto'] = proto;
  if (req.headers.host) out['x-forwarded-host'] = req.headers.host;
  if (requestExtra) {
    const cookie = requestExtra.slice('Cookie: '.length, -2);
    out.cookie = out.cookie ? `${out.cookie}; ${cookie}` : cookie;
  }
  return out;
}
