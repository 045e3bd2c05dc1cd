/**
 * One active health check of one backend: `tcp` (connect), `http` (GET a
 * path, status in a range) or `ws` (a complete WebSocket handshake: 101 with
 * the right Sec-WebSocket-Accept, then a clean close frame). Every probe is
 * bounded by `timeoutMs`, so a backend that accepts TCP and never answers is
 * a failure, not a hang. A probe never throws: it resolves with a result.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createHash, randomBytes } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { HealthCheckConfig, PoolConfig } from '../../shared/config/schema';
import { DEFAULT_BACKEND_TLS, resolveBackendTls, tlsConnectOptions } from '../../shared/tls/backend-tls';

/** Outcome of one check. */
export interface ProbeResult {
  ok: boolean;
  /** Time the check took, in ms. */
  latencyMs: number;
  /** Why it failed (`timeout`, `ECONNREFUSED`, `status 503`, ...). */
  reason?: string;
}

/** Where to probe, parsed once from the backend URL. */
export interface ProbeTarget {
  host: string;
  port: number;
  tls: boolean;
  /** Host header value (host:port as in the URL). */
  hostHeader: string;
  /** tls.connect options: the certificate is verified as for live traffic (the pool's `tls`), or null for plain TCP. */
  tlsOptions: ConnectionOptions | null;
  /** The pool `tls` config these options came from (a changed one makes a new target). */
  tlsConfig: PoolConfig['tls'];
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** A masked close frame with code 1000 (mask key zero, so payload bytes stay as-is). */
const WS_CLOSE_FRAME = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);

/**
 * Parses a backend URL (http, https, ws, wss) into a probe target, with the
 * pool's TLS settings: a probe that skipped verification would call a
 * backend up that live traffic cannot reach, or an impostor healthy. A CA
 * file that cannot be read leaves verification on against the system CAs.
 */
export function probeTarget(url: string, tlsConfig?: PoolConfig['tls'], pool = 'pool'): ProbeTarget {
  const u = new URL(url);
  const tls = u.protocol === 'https:' || u.protocol === 'wss:';
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  let settings = DEFAULT_BACKEND_TLS;
  try { settings = resolveBackendTls(pool, tlsConfig); } catch { /* reported by the node at start and reload */ }
  return { host, port: u.port ? Number(u.port) : tls ? 443 : 80, tls, hostHeader: u.host, tlsOptions: tls ? tlsConnectOptions(settings, host) : null, tlsConfig };
}

/** Parses `200-399` or `204` into an inclusive range. */
export function statusRange(expect: string): [number, number] {
  const [lo, hi] = expect.split('-').map(Number);
  return [lo, hi ?? lo];
}

/** Runs one check of the configured type; resolves within about `timeoutMs`. */
export function probe(target: ProbeTarget, check: HealthCheckConfig): Promise<ProbeResult> {
  switch (check.type) {
    case 'tcp': return probeTcp(target, check.timeoutMs);
    case 'http': return probeHttp(target, check);
    case 'ws': return probeWs(target, check);
  }
}

/** Wraps a callback-style check with one deadline and one settle. */
function bounded(timeoutMs: number, run: (done: (ok: boolean, reason?: string) => void) => () => void): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    let cleanup: () => void = () => {};
    let settled = false;
    const done = (ok: boolean, reason?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      cleanup();
      resolve({ ok, latencyMs: performance.now() - started, reason: ok ? undefined : reason });
    };
    const timer = setTimeout(() => done(false, `timeout after ${timeoutMs} ms`), timeoutMs);
    cleanup = run(done);
  });
}

function errReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? e?.message ?? String(err);
}

function probeTcp(t: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  return bounded(timeoutMs, (done) => {
    const sock: Socket = t.tls
      ? tlsConnect({ ...t.tlsOptions, host: t.host, port: t.port })
      : netConnect({ host: t.host, port: t.port });
    sock.once(t.tls ? 'secureConnect' : 'connect', () => done(true));
    sock.on('error', (err) => done(false, errReason(err)));
    sock.once('close', () => done(false, 'closed before connect'));
    return () => sock.destroy();
  });
}

function startRequest(t: ProbeTarget, path: string, headers: Record<string, string>): ClientRequest {
  const opts = { host: t.host, port: t.port, path, method: 'GET', headers: { host: t.hostHeader, 'user-agent': 'wsha-health', ...headers }, agent: false as const };
  return t.tls ? httpsRequest({ ...t.tlsOptions, ...opts }) : httpRequest(opts);
}

function probeHttp(t: ProbeTarget, check: HealthCheckConfig): Promise<ProbeResult> {
  const [lo, hi] = statusRange(check.expectStatus);
  return bounded(check.timeoutMs, (done) => {
    const req = startRequest(t, check.path, { connection: 'close' });
    req.once('response', (res: IncomingMessage) => {
      const s = res.statusCode ?? 0;
      res.resume();
      done(s >= lo && s <= hi, `status ${s}`);
    });
    req.on('error', (err) => done(false, errReason(err)));
    req.end();
    return () => req.destroy();
  });
}

function probeWs(t: ProbeTarget, check: HealthCheckConfig): Promise<ProbeResult> {
  return bounded(check.timeoutMs, (done) => {
    const key = randomBytes(16).toString('base64');
    const expected = createHash('sha1').update(key + WS_GUID).digest('base64');
    const req = startRequest(t, check.path, { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': key });
    let upgraded: Socket | null = null;
    req.once('upgrade', (res: IncomingMessage, socket: Socket) => {
      upgraded = socket;
      socket.on('error', () => undefined); // a reset after our close frame is not a failure
      if (res.headers['sec-websocket-accept'] !== expected) return done(false, 'bad Sec-WebSocket-Accept');
      // Close politely so the backend does not log an abnormal closure.
      socket.end(WS_CLOSE_FRAME);
      done(true);
    });
    req.once('response', (res: IncomingMessage) => {
      res.resume();
      done(false, `handshake refused: status ${res.statusCode}`);
    });
    req.on('error', (err) => done(false, errReason(err)));
    req.end();
    return () => {
      const s = upgraded as Socket | null;
      if (s) setTimeout(() => s.destroy(), 100).unref(); else req.destroy();
    };
  });
}
