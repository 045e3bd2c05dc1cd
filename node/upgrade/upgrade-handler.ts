/**
 * The WebSocket upgrade path: refuse what must be refused (limit, drain,
 * malformed or hostile request, no route, no backend) with an HTTP status
 * on the raw socket, otherwise pick a backend, connect to it and hand both
 * sockets to a Tunnel, which verifies the backend's 101 before it splices.
 * The request passes the same checks as plain HTTP (request-checks.ts),
 * and the backend gets the normalised path that was routed. Never throws.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { abortSocket, endSoon, isLastRequest, pendingResponse } from '../http/abort';
import { connOf, type ClientConn } from '../conn';
import { countRefusal, type NodeRuntime } from '../runtime';
import { selectBackend } from '../balance/select';
import { encodeProxyHeader } from '../listen/proxy-protocol';
import type { Backend } from '../pool/backend';
import type { BackendPool } from '../pool/backend-pool';
import { tlsConnectOptions } from '../../shared/tls/backend-tls';
import { checkRequest } from '../http/request-checks';
import { forwardHeaderList } from '../http/forward-headers';
import { refusalTag } from '../http/refusal-tag';
import { AdmissionError, WshaError } from '../../shared/errors';
import { applyEdits } from '../access/edge-headers';
import { denyUpgrade } from '../access/edge-refusal';
import type { Admitted } from '../access/route-policy';
import { MessageGate } from '../limits/message-gate';
import type { RoutePolicy } from '../access/route-policy';
import { acceptFor, invalidUpgradeReason, requestHeadBytes } from './handshake';
import { applyKeepAlive } from '../tcp-keepalive';

/** Handles one 'upgrade' event of a listener's HTTP server. */
export function handleUpgrade(rt: NodeRuntime, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  upgrade(rt, req, socket, head).catch((err) => {
    rt.log.error({ err }, 'upgrade handler failed');
    abortSocket(socket, 500, 'internal error');
  });
}

function refuse(rt: NodeRuntime, socket: Duplex, status: number, reason: string, tag: string, headRequest = false): void {
  countRefusal(rt, tag);
  abortSocket(socket, status, reason, { headRequest });
}

async function upgrade(rt: NodeRuntime, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  socket.on('error', socketOnErrorDuringPick);
  // Pipelined behind a request whose response is still going out: a 101 now would land inside or before it.
  const earlier = pendingResponse(socket);
  if (earlier) {
    countRefusal(rt, 'bad-handshake');
    let answered = false;
    const answer = () => { if (!answered) { answered = true; abortSocket(socket, 400, 'upgrade pipelined behind another request'); } };
    earlier.once('finish', answer);
    earlier.once('close', answer);
    return;
  }
  // Behind a request that was refused with a close: that answer was the last.
  if (isLastRequest(socket)) return endSoon(socket);
  const conn = connOf(socket);
  if (!conn) return refuse(rt, socket, 500, 'connection without listener context', 'internal');
  if (conn.reject) {
    if (conn.reject.limit === 'maxConnectionsPerClient') rt.denied.record('-', 'client-limit', 429, conn.clientAddress, conn.reject.message);
    return refuse(rt, socket, conn.reject.httpStatus ?? 503, conn.reject.message, conn.reject.limit);
  }
  if (rt.draining) return refuse(rt, socket, 503, 'node is draining', 'draining');
  const checked = checkRequest(req);
  if (checked instanceof WshaError) return refuse(rt, socket, checked.httpStatus ?? 400, checked.message, refusalTag(checked), req.method === 'HEAD');
  const invalid = invalidUpgradeReason(req, checked.framing);
  if (invalid) return refuse(rt, socket, 400, invalid, 'bad-handshake', req.method === 'HEAD');
  const route = rt.router.match(checked.host, checked.path);
  if (checked.encodedSlash && !route?.allowEncodedSlashes) return refuse(rt, socket, 400, 'encoded slash in path', 'bad-path');
  if (!route) return refuse(rt, socket, 404, 'no route for this host and path', 'no-route');
  const heldBudget = rt.limits.maxHeaderBytes - requestHeadBytes(req);
  if (head.length > heldBudget) return refuse(rt, socket, 400, `client sent more than limits.maxHeaderBytes (${rt.limits.maxHeaderBytes}) before the 101`, 'bad-handshake');
  const pool = rt.pools.get(route.pool);
  if (!pool) return refuse(rt, socket, 503, `pool ${route.pool} is gone`, 'no-backend');
  // ---- edge (issue 12): access, auth and rate limits of the route, then the pool's admission ----
  const policy = rt.edge.routes[route.index] ?? null;
  const routeName = rt.edge.names[route.index] ?? route.path;
  let admitted: Admitted | null = null;
  if (policy) {
    const d = await policy.check({ req, kind: 'upgrades', socketAddress: conn.clientAddress, host: checked.host, path: checked.path, query: checked.query, proto: conn.listener.proto });
    if (socket.destroyed) return;
    if (d instanceof WshaError) return denyUpgrade(rt, socket, routeName, d, policy.realm, conn.clientAddress, false);
    admitted = d;
  }
  const admission = rt.edge.admission(pool.name, pool.config);
  if (admission) {
    const a = await admission.enter(() => socket.destroyed);
    if (socket.destroyed) return;
    if (a) return denyUpgrade(rt, socket, routeName, new AdmissionError(`pool ${pool.name} is admitting no more handshakes now (${a.why})`, a.retryAfterSec), 'wsha', admitted?.clientAddress ?? conn.clientAddress, false);
  }
  // ---- end edge ----
  const sel = await selectBackend(pool, rt.view, req, conn.clientAddress, rt.affinityLookupTimeoutMs);
  if (socket.destroyed) {
    if (sel?.sessionKey != null) rt.view.affinity.release?.(pool.name, sel.sessionKey);
    return;
  }
  if (!sel) return refuse(rt, socket, 503, `no healthy backend in pool ${pool.name}`, 'no-backend');
  socket.off('error', socketOnErrorDuringPick);
  const headers = forwardHeaderList(req, { clientAddress: conn.clientAddress, proto: conn.listener.proto, extra: sel.requestExtra, stickyHeader: pool.config.sticky?.header?.toLowerCase() ?? '', backendHost: sel.backend.authority }, 'upgrade', checked.framing);
  if (admitted) applyEdits(headers, admitted);
  rt.registry.create({
    client: socket,
    backend: connectBackend(sel.backend, proxyHeaderFor(pool, conn), rt.limits.tcpKeepAliveMs),
    target: sel.backend,
    origin: { listener: conn.listener.name, vip: conn.listener.vip, clientAddress: conn.clientAddress },
    request: { path: checked.path + (admitted?.query ?? checked.query), headers },
    held: head,
    heldBudget,
    expectedAccept: acceptFor(req.headers['sec-websocket-key'] as string),
    responseExtra: sel.responseExtra,
    sessionKey: sel.sessionKey,
    connectTimeoutMs: rt.limits.backendConnectTimeoutMs,
    headTimeoutMs: route.responseHeadTimeoutMs ?? rt.limits.responseHeadTimeoutMs ?? rt.limits.backendConnectTimeoutMs,
    idleTimeoutMs: route.idleTimeoutMs ?? rt.limits.idleTimeoutMs,
    route: routeName,
    gate: gateFor(policy, admitted),
    expiresAtMs: admitted?.expiresAtMs ?? 0,
  });
}

/**
 * The client-to-backend frame reader of a tunnel, or null: only routes with
 * message limits, or whose tunnels close at token expiry (the backend must
 * get its close frame between two frames), pay for reading frame headers.
 */
function gateFor(policy: RoutePolicy | null, admitted: Admitted | null): MessageGate | null {
  const m = policy?.messages;
  if (!m && !(admitted && admitted.expiresAtMs > 0)) return null;
  const rate = m?.ratePerSec ?? 0;
  return new MessageGate(m?.maxBytes ?? 0, rate, m?.burst ?? Math.max(1, Math.ceil(rate)), Date.now());
}

function socketOnErrorDuringPick(this: Duplex): void { this.destroy(); }

const kTls = Symbol('wsha.tlsOverRaw');
/** An error of the TCP socket under a TLS socket (PROXY header first) fails the TLS socket, which the tunnel watches. */
function rawOnError(this: Socket, err: Error): void { ((this as any)[kTls] as Socket).destroy(err); }

/** The PROXY header a pool wants in front of the forwarded request, or null. */
export function proxyHeaderFor(pool: BackendPool, conn: ClientConn): Buffer | null {
  const v = pool.config.proxyProtocol;
  if (!v) return null;
  try {
    return encodeProxyHeader(v, { address: conn.clientAddress, port: conn.clientPort }, { address: conn.destAddress, port: conn.destPort });
  } catch {
    // Mixed families (IPv4 client on an IPv6 listener) cannot be encoded as one PROXY line; send none.
    return null;
  }
}

/**
 * Opens the TCP (or TLS) connection to a backend; errors surface on the
 * socket. A PROXY header goes first on the TCP connection, before TLS, as
 * the PROXY spec requires. The backend certificate is verified unless the
 * pool says otherwise (backend-tls.ts). `keepAliveMs` is limits.tcpKeepAliveMs
 * (0: no keepalive).
 */
export function connectBackend(b: Backend, pp: Buffer | null = null, keepAliveMs = 0): Socket {
  if (b.tls) {
    const opts = tlsConnectOptions(b.tlsSettings, b.host);
    let s: Socket;
    if (pp) {
      const raw = netConnect({ host: b.host, port: b.port, noDelay: true });
      applyKeepAlive(raw, keepAliveMs);
      raw.write(pp);
      s = tlsConnect({ ...opts, socket: raw, host: b.host });
      raw.on('error', rawOnError);
      (raw as any)[kTls] = s;
    } else {
      s = tlsConnect({ ...opts, host: b.host, port: b.port });
      applyKeepAlive(s, keepAliveMs);
    }
    s.setNoDelay(true);
    return s;
  }
  const s = netConnect({ host: b.host, port: b.port, allowHalfOpen: true, noDelay: true });
  applyKeepAlive(s, keepAliveMs);
  if (pp) s.write(pp);
  return s;
}
