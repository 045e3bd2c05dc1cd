/**
 * The WebSocket upgrade path: refuse what must be refused (limit, drain,
 * malformed handshake, no route, no backend) with an HTTP status on the raw
 * socket, otherwise pick a backend, connect to it and hand both sockets to a
 * Tunnel, which relays the backend's 101 and splices. Never throws.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { abortSocket } from '../http/abort';
import { connOf, type ClientConn } from '../conn';
import { countRefusal, type NodeRuntime } from '../runtime';
import { selectBackend } from '../balance/select';
import { encodeProxyHeader } from '../listen/proxy-protocol';
import type { Backend } from '../pool/backend';
import type { BackendPool } from '../pool/backend-pool';
import { buildRequestHead, invalidUpgradeReason } from './handshake';
import { TCP_KEEPALIVE_MS } from '../limits';

/** Handles one 'upgrade' event of a listener's HTTP server. */
export function handleUpgrade(rt: NodeRuntime, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  upgrade(rt, req, socket, head).catch((err) => {
    rt.log.error({ err }, 'upgrade handler failed');
    abortSocket(socket, 500, 'internal error');
  });
}

function refuse(rt: NodeRuntime, socket: Duplex, status: number, reason: string, tag: string): void {
  countRefusal(rt, tag);
  abortSocket(socket, status, reason);
}

async function upgrade(rt: NodeRuntime, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  socket.on('error', socketOnErrorDuringPick);
  const conn = connOf(socket);
  if (!conn) return refuse(rt, socket, 500, 'connection without listener context', 'internal');
  if (conn.reject) return refuse(rt, socket, conn.reject.httpStatus ?? 503, conn.reject.message, conn.reject.limit);
  if (rt.draining) return refuse(rt, socket, 503, 'node is draining', 'draining');
  const invalid = invalidUpgradeReason(req);
  if (invalid) return refuse(rt, socket, 400, invalid, 'bad-handshake');
  const route = rt.router.match(req.headers.host, req.url ?? '/');
  if (!route) return refuse(rt, socket, 404, `no route for ${req.headers.host ?? ''}${req.url ?? ''}`, 'no-route');
  const pool = rt.pools.get(route.pool);
  if (!pool) return refuse(rt, socket, 503, `pool ${route.pool} is gone`, 'no-backend');
  const sel = await selectBackend(pool, rt.view, req, conn.clientAddress, rt.affinityLookupTimeoutMs);
  if (socket.destroyed) {
    if (sel?.sessionKey != null) rt.view.affinity.release?.(pool.name, sel.sessionKey);
    return;
  }
  if (!sel) return refuse(rt, socket, 503, `no healthy backend in pool ${pool.name}`, 'no-backend');
  socket.off('error', socketOnErrorDuringPick);
  const reqHead = buildRequestHead(req, { clientAddress: conn.clientAddress, proto: conn.listener.proto, extra: sel.requestExtra });
  const parts: Buffer[] = [];
  const pp = proxyHeaderFor(pool, conn);
  if (pp) parts.push(pp);
  parts.push(Buffer.from(reqHead, 'latin1'));
  if (head.length) parts.push(head);
  rt.registry.create({
    client: socket,
    backend: connectBackend(sel.backend),
    target: sel.backend,
    origin: { listener: conn.listener.name, vip: conn.listener.vip, clientAddress: conn.clientAddress },
    head: parts.length === 1 ? parts[0] : Buffer.concat(parts),
    responseExtra: sel.responseExtra,
    sessionKey: sel.sessionKey,
    connectTimeoutMs: rt.limits.backendConnectTimeoutMs,
    idleTimeoutMs: rt.limits.idleTimeoutMs,
  });
}

function socketOnErrorDuringPick(this: Duplex): void { this.destroy(); }

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

/** Opens the TCP (or TLS) connection to a backend; errors surface on the socket. */
export function connectBackend(b: Backend): Socket {
  if (b.tls) {
    const s = tlsConnect({ host: b.host, port: b.port, servername: isIP(b.host) ? undefined : b.host, ALPNProtocols: ['http/1.1'] });
    s.setNoDelay(true);
    s.setKeepAlive(true, TCP_KEEPALIVE_MS);
    return s;
  }
  return netConnect({ host: b.host, port: b.port, allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: TCP_KEEPALIVE_MS });
}
