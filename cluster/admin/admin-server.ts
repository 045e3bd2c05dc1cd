/**
 * The admin HTTP API of one node, on `node.admin.listen` (loopback by
 * default), over TLS when `node.admin.tls` is set. Open: GET /healthz,
 * GET /readyz. Everything else needs the bearer token; a wrong or missing
 * token gets 401 and nothing is done. Actions (POST) take the token only
 * from the Authorization header (auth.ts), so a cookie or a link can
 * never trigger one.
 *
 *   GET  /               live page (HTML, JS, CSS from cluster/admin/page/)
 *   GET  /metrics        Prometheus text of this node's Metrics
 *   GET  /api/state      this node's view (provider `state`)
 *   GET  /api/status     the cluster status document (provider `clusterStatus`)
 *   GET  /api/events     server-sent events: {node, cluster} snapshots
 *   GET  /api/history    cluster event history and connection samples of a window (provider `history`)
 *   POST /api/drain      provider `drain`
 *   POST /api/undrain    provider `undrain`
 *   POST /api/failover   provider `failover` with body {"vip"?, "to"?}
 *   POST /api/session    sets the live page's session cookie (HttpOnly, SameSite=Strict)
 *
 * The server knows nothing of the node's internals: the composition root
 * (cluster/node-process/run-node.ts) passes small provider functions.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { BadRequestError, NotFoundError, UnauthorizedError, WshaError } from '../../shared/errors';
import { TokenCheck, generateToken, sessionCookie } from './auth';
import type { AdminTlsPem } from './admin-tls';
import { EventStream } from './event-stream';
import { loadPage, type PageFile } from './static-page';

/** What the node hands to its admin server. */
export interface AdminProviders {
  /** This node's view as JSON (ProxyNode.snapshot() plus ownership and health). */
  state(): unknown | Promise<unknown>;
  /** Ready to take traffic: config loaded, Redis reachable or last-known state usable. */
  ready(): boolean | { ready: boolean; reason?: string };
  /** The cluster-wide status document (cluster/status/collect.ts), for the live page. */
  clusterStatus?(): Promise<unknown>;
  /** Puts this node in maintenance: hands its VIPs over and stops acquiring. */
  drain?(ctx: ActionContext): Promise<unknown>;
  /** Takes this node out of maintenance. */
  undrain?(ctx: ActionContext): Promise<unknown>;
  /** Planned handover of a VIP (default: every VIP this node owns) to `to` (default: the best standby). */
  failover?(req: { vip?: string; to?: string }, ctx: ActionContext): Promise<unknown>;
  /** The cluster event history of a window (node/admin/history-api.ts), for the live page's timeline. */
  history?(query: URLSearchParams): Promise<unknown>;
}

/** Where /metrics comes from: the node's Metrics, or the sum over the processes of a node (cluster/node-process/node-metrics.ts). */
export interface MetricsSource {
  /** Prometheus text exposition. */
  text(): Promise<string>;
  readonly contentType: string;
}
/** Where an admin action came from (recorded in the cluster history with the token's name). */
export interface ActionContext { remoteAddress?: string }

/** Options of AdminServer. */
export interface AdminServerOptions {
  /** HOST:PORT; port 0 picks a free one. */
  listen: string;
  /** Bearer token; a random one is generated (and exposed as `token`) when absent. */
  token?: string;
  metrics: MetricsSource;
  providers: AdminProviders;
  log?: Logger;
  /** How often the live page's event stream is refreshed. @default 500 */
  eventIntervalMs?: number;
  /** Certificate and key (PEM): serve HTTPS instead of HTTP. */
  tls?: AdminTlsPem | null;
}

/** Largest POST body accepted. */
const MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_EVENT_INTERVAL_MS = 500;

function splitHostPort(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(listen.slice(at + 1)) };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  const e = err instanceof WshaError ? err : null;
  sendJson(res, e?.httpStatus ?? 500, { error: { code: e?.code ?? 'WSHA_ERR_INTERNAL', message: (err as Error)?.message ?? String(err) } });
}

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) { reject(new BadRequestError('request body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve({});
      try {
        const v = JSON.parse(text);
        if (!v || typeof v !== 'object' || Array.isArray(v)) return reject(new BadRequestError('expected a JSON object'));
        resolve(v as Record<string, unknown>);
      } catch { reject(new BadRequestError('body is not valid JSON')); }
    });
    req.on('error', reject);
  });
}

/** The admin HTTP server of one node. `start()` listens; `close()` ends streams and stops. */
export class AdminServer {
  readonly token: string;
  readonly #opts: AdminServerOptions;
  readonly #auth: TokenCheck;
  readonly #server: Server | HttpsServer;
  readonly #events: EventStream;
  readonly #page: Map<string, PageFile>;

  constructor(opts: AdminServerOptions) {
    this.#opts = opts;
    this.token = opts.token ?? generateToken();
    this.#auth = new TokenCheck(this.token);
    this.#page = loadPage();
    this.#events = new EventStream(() => this.#snapshot(), opts.eventIntervalMs ?? DEFAULT_EVENT_INTERVAL_MS, opts.log);
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res);
    this.#server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createServer(handler);
    this.#server.on('clientError', (_err, socket) => socket.destroy());
  }

  /** Listens on `listen`; resolves with the bound address. */
  start(): Promise<{ host: string; port: number }> {
    const { host, port } = splitHostPort(this.#opts.listen);
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        const a = this.#server.address() as AddressInfo;
        this.#opts.log?.info({ admin: `${host}:${a.port}` }, 'admin api listening');
        resolve({ host, port: a.port });
      });
    });
  }

  /** True when the API is served over TLS. */
  get secure(): boolean { return !!this.#opts.tls; }

  /**
   * Swaps in new certificate material (SIGHUP); new connections use it.
   * Returns false when the server runs without TLS (turning TLS on or off needs a restart).
   */
  reloadTls(pem: AdminTlsPem | null): boolean {
    if (!pem || !this.#opts.tls) return false;
    (this.#server as HttpsServer).setSecureContext({ cert: pem.cert, key: pem.key });
    return true;
  }

  /** The bound address as HOST:PORT (after start). */
  get address(): string {
    const a = this.#server.address() as AddressInfo | null;
    return a ? `${splitHostPort(this.#opts.listen).host}:${a.port}` : this.#opts.listen;
  }

  /** Stops listening and ends every open stream. */
  close(): Promise<void> {
    this.#events.close();
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #snapshot(): Promise<unknown> {
    const p = this.#opts.providers;
    const [node, cluster] = await Promise.all([p.state(), p.clusterStatus ? p.clusterStatus().catch((err: Error) => ({ error: err.message })) : null]);
    return { node, cluster };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://admin');
      const method = req.method ?? 'GET';
      if (method === 'GET' && url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
      if (method === 'GET' && url.pathname === '/readyz') return this.#ready(res);
      // The page itself carries no data, so it loads without the token and asks for it.
      const page = method === 'GET' ? this.#page.get(url.pathname) : undefined;
      if (page) {
        res.writeHead(200, { 'content-type': page.type, 'cache-control': 'no-store', 'content-length': page.body.length });
        return void res.end(page.body);
      }
      if (!this.#auth.allows(req, url)) {
        res.setHeader('www-authenticate', 'Bearer realm="wsha"');
        return sendError(res, new UnauthorizedError());
      }
      await this.#route(method, url, req, res);
    } catch (err) {
      if (!res.headersSent) sendError(res, err);
      else res.destroy();
    }
  }

  async #ready(res: ServerResponse): Promise<void> {
    const r = this.#opts.providers.ready();
    const v = typeof r === 'boolean' ? { ready: r } : r;
    sendJson(res, v.ready ? 200 : 503, v);
  }

  async #route(method: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const p = this.#opts.providers;
    const key = `${method} ${url.pathname}`;
    const ctx: ActionContext = { remoteAddress: req.socket.remoteAddress };
    switch (key) {
      case 'GET /metrics': {
        const text = await this.#opts.metrics.text();
        res.writeHead(200, { 'content-type': this.#opts.metrics.contentType, 'cache-control': 'no-store' });
        return void res.end(text);
      }
      case 'GET /api/state': return sendJson(res, 200, await p.state());
      case 'GET /api/status':
        if (!p.clusterStatus) throw new NotFoundError('cluster status on this node');
        return sendJson(res, 200, await p.clusterStatus());
      case 'GET /api/history':
        if (!p.history) throw new NotFoundError('history on this node');
        return sendJson(res, 200, await p.history(url.searchParams));
      case 'GET /api/events':
        if (!this.#events.add(res)) sendJson(res, 503, { error: { code: 'WSHA_ERR_LIMIT', message: 'too many live page clients' } });
        return;
      case 'POST /api/session':
        // The live page trades the token (header) for an HttpOnly cookie, which EventSource then sends.
        res.writeHead(204, { 'set-cookie': sessionCookie(this.token, this.secure), 'cache-control': 'no-store' });
        return void res.end();
      case 'POST /api/drain': return this.#act(res, p.drain && (() => p.drain!(ctx)), 'drain');
      case 'POST /api/undrain': return this.#act(res, p.undrain && (() => p.undrain!(ctx)), 'undrain');
      case 'POST /api/failover': {
        const body = await readBody(req);
        const vip = typeof body.vip === 'string' ? body.vip : undefined;
        const to = typeof body.to === 'string' ? body.to : undefined;
        return this.#act(res, p.failover && (() => p.failover!({ vip, to }, ctx)), 'failover');
      }
      default: throw new NotFoundError(`${method} ${url.pathname}`);
    }
  }

  async #act(res: ServerResponse, fn: (() => Promise<unknown>) | undefined, what: string): Promise<void> {
    if (!fn) throw new NotFoundError(`${what} on this node`);
    this.#opts.log?.info({ action: what }, 'admin action');
    const result = await fn();
    this.#events.poke();
    sendJson(res, 200, { ok: true, result: result ?? null });
  }
}
