/**
 * Test pieces for the edge (issue 12): signing keys and tokens (jose), a
 * real JWKS HTTP server that can be taken down, made to hang or given new
 * keys, an external auth service, and an upgrade helper that resolves with
 * the status and headers of a refused handshake or with the open socket.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import WebSocket from 'ws';

/** A signing key pair with a kid. */
export interface SigningKey { kid: string; alg: 'RS256' | 'ES256' | 'EdDSA'; privateKey: KeyObject; publicKey: KeyObject; jwk: Record<string, unknown> }

/** Makes a key pair for `alg`. */
export function makeKey(kid: string, alg: SigningKey['alg'] = 'RS256'): SigningKey {
  const pair = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return { kid, alg, ...pair, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig' } };
}

/** Signs a JWT; `claims` may set exp/nbf as seconds since the epoch; `exp` defaults to one hour from now. */
export async function signToken(key: SigningKey | { alg: 'HS256'; secret: Uint8Array; kid?: string }, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  const jose = await import('jose');
  const now = Math.floor(Date.now() / 1000);
  const body = { iat: now, exp: now + 3600, ...claims };
  for (const k of Object.keys(body)) if ((body as Record<string, unknown>)[k] === undefined) delete (body as Record<string, unknown>)[k];
  const kid = 'kid' in key ? key.kid : undefined;
  const jwt = new jose.SignJWT(body).setProtectedHeader({ alg: key.alg, ...(kid ? { kid } : {}), ...header });
  return jwt.sign('secret' in key ? key.secret : key.privateKey);
}

/** A JWKS endpoint for tests. */
export interface JwksServer {
  url: string;
  keys: SigningKey[];
  /** Requests served (or hung). */
  hits: number;
  /** `up` serves the keys, `down` answers 503, `hang` never answers. */
  mode: 'up' | 'down' | 'hang';
  close(): Promise<void>;
}

/** Starts a JWKS server on a free loopback port. */
export async function startJwks(keys: SigningKey[]): Promise<JwksServer> {
  const hung: ServerResponse[] = [];
  const s: JwksServer = { url: '', keys, hits: 0, mode: 'up', close: async () => {} };
  const server = createServer((_req, res) => {
    s.hits++;
    if (s.mode === 'hang') { hung.push(res); return; }
    if (s.mode === 'down') { res.writeHead(503).end(); return; }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: s.keys.map((k) => k.jwk) }));
  });
  await listen(server);
  s.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
  s.close = () => closeServer(server, () => { for (const r of hung) r.destroy(); });
  return s;
}

/** An auth service for tests: `decide` picks the status (and headers) per request. */
export interface AuthService {
  url: string;
  seen: IncomingMessage['headers'][];
  decide: (req: IncomingMessage) => { status: number; headers?: Record<string, string> } | 'hang';
  close(): Promise<void>;
}

/** Starts an auth service on a free loopback port. */
export async function startAuthService(decide: AuthService['decide']): Promise<AuthService> {
  const hung: ServerResponse[] = [];
  const a: AuthService = { url: '', seen: [], decide, close: async () => {} };
  const server = createServer((req, res) => {
    a.seen.push(req.headers);
    const d = a.decide(req);
    if (d === 'hang') { hung.push(res); return; }
    res.writeHead(d.status, d.headers ?? {}).end('auth says so');
  });
  await listen(server);
  a.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/check`;
  a.close = () => closeServer(server, () => { for (const r of hung) r.destroy(); });
  return a;
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => resolve()); });
}

function closeServer(server: Server, before: () => void): Promise<void> {
  before();
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

/** What an upgrade attempt got. */
export type UpgradeOutcome = { ok: true; ws: WebSocket; protocol: string } | { ok: false; status: number; headers: IncomingMessage['headers']; body: string };

/** Tries a WebSocket upgrade; never rejects on a refusal. */
export function tryUpgrade(url: string, opts: { headers?: Record<string, string>; protocols?: string[]; origin?: string; timeoutMs?: number } = {}): Promise<UpgradeOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts.protocols ?? [], { handshakeTimeout: opts.timeoutMs ?? 5000, headers: opts.headers, ...(opts.origin ? { origin: opts.origin } : {}) });
    ws.once('open', () => resolve({ ok: true, ws, protocol: ws.protocol }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => { ws.terminate(); resolve({ ok: false, status: res.statusCode ?? 0, headers: res.headers, body }); });
    });
    ws.once('error', (err) => reject(err));
  });
}

/** The status of an outcome (101 when open), closing an open socket. */
export function statusOf(o: UpgradeOutcome): number {
  if (o.ok) { o.ws.terminate(); return 101; }
  return o.status;
}
