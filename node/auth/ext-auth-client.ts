/**
 * External authorisation (nginx auth_request, Envoy ext_authz over HTTP,
 * Traefik ForwardAuth): the request's method, path and selected headers go
 * to an HTTP service as a GET, and its status decides.
 *
 *   2xx                -> allow; the configured response headers go onto the backend request
 *   401 / 403          -> deny with that status (WWW-Authenticate relayed)
 *   timeout, refused,
 *   any other status   -> unavailable: 503, or allow when the route fails open
 *
 * Allow and deny decisions may be cached per credential (the values of the
 * headers sent) for a short TTL, bounded in entries, so a reconnect storm
 * does not become an auth-service storm.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { ExternalAuthConfig } from '../../shared/config/edge-schema';
import { DEFAULTS } from '../../shared/config/defaults';

/** What the service decided. */
export type ExtDecision =
  | { kind: 'allow'; headers: Array<[string, string]> }
  | { kind: 'deny'; status: 401 | 403; wwwAuthenticate: string | null }
  | { kind: 'unavailable'; why: string };

/** Facts about the request sent to the service. */
export interface ExtAuthRequest {
  method: string;
  /** Normalised path and query as routed. */
  uri: string;
  host: string;
  clientAddress: string;
  proto: string;
  req: IncomingMessage;
}

/** Most bytes of a service answer read (the body is drained, never used). */
const MAX_BODY_BYTES = 64 * 1024;

/** One route's auth-service client. */
export class ExtAuthClient {
  readonly config: ExternalAuthConfig;
  readonly #url: URL;
  readonly #agent: http.Agent;
  readonly #send: readonly string[];
  readonly #copy: readonly string[];
  readonly #cache = new Map<string, { decision: ExtDecision; untilMs: number }>();
  /** Calls made to the service, and answers from the cache (tests, status). */
  calls = 0;
  cacheHits = 0;

  constructor(config: ExternalAuthConfig) {
    this.config = config;
    this.#url = new URL(config.url);
    const Agent = this.#url.protocol === 'https:' ? https.Agent : http.Agent;
    this.#agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });
    this.#send = config.headers.map((h) => h.toLowerCase());
    this.#copy = (config.responseHeaders ?? []).map((h) => h.toLowerCase());
  }

  /** Closes the idle keep-alive sockets (the route went away on reload). */
  close(): void { this.#agent.destroy(); }

  /** Asks the service (or the cache) about `r`. Never rejects. */
  async check(r: ExtAuthRequest): Promise<ExtDecision> {
    const key = this.config.cacheTtlMs > 0 ? this.#credential(r.req) : null;
    if (key !== null) {
      const hit = this.#cache.get(key);
      if (hit && hit.untilMs > performance.now()) { this.cacheHits++; return hit.decision; }
      if (hit) this.#cache.delete(key);
    }
    const decision = await this.#ask(r);
    if (key !== null && decision.kind !== 'unavailable') this.#remember(key, decision);
    return decision;
  }

  #credential(req: IncomingMessage): string {
    let k = '';
    for (const h of this.#send) { const v = req.headers[h]; k += `${Array.isArray(v) ? v.join('\n') : v ?? ''}\u0000`; }
    return k;
  }

  #remember(key: string, decision: ExtDecision): void {
    if (this.#cache.size >= DEFAULTS.edge.extAuthCacheEntries) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(key, { decision, untilMs: performance.now() + this.config.cacheTtlMs });
  }

  #headersFor(r: ExtAuthRequest): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {
      'X-Forwarded-Method': r.method, 'X-Forwarded-Uri': r.uri, 'X-Forwarded-Host': r.host,
      'X-Forwarded-For': r.clientAddress, 'X-Forwarded-Proto': r.proto,
    };
    for (const h of this.#send) { const v = r.req.headers[h]; if (v !== undefined) out[h] = v; }
    return out;
  }

  #ask(r: ExtAuthRequest): Promise<ExtDecision> {
    this.calls++;
    const mod = this.#url.protocol === 'https:' ? https : http;
    return new Promise<ExtDecision>((resolve) => {
      let done = false;
      const finish = (d: ExtDecision) => { if (!done) { done = true; clearTimeout(timer); resolve(d); } };
      const req = mod.request(this.#url, { method: 'GET', agent: this.#agent, headers: this.#headersFor(r) }, (res) => {
        const d = this.#decide(res);
        let read = 0;
        res.on('data', (c: Buffer) => { read += c.length; if (read > MAX_BODY_BYTES) res.destroy(); });
        res.on('error', () => {});
        res.on('end', () => finish(d));
        res.on('close', () => finish(d));
      });
      const timer = setTimeout(() => { req.destroy(); finish({ kind: 'unavailable', why: `no answer within ${this.config.timeoutMs} ms` }); }, this.config.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'unavailable', why: err.code ?? err.message }));
      req.end();
    });
  }

  #decide(res: IncomingMessage): ExtDecision {
    const s = res.statusCode ?? 0;
    if (s >= 200 && s < 300) {
      const headers: Array<[string, string]> = [];
      for (const h of this.#copy) {
        const v = res.headers[h];
        if (typeof v === 'string') headers.push([h, v]);
        else if (Array.isArray(v)) for (const x of v) headers.push([h, x]);
      }
      return { kind: 'allow', headers };
    }
    if (s === 401 || s === 403) {
      const w = res.headers['www-authenticate'];
      return { kind: 'deny', status: s, wwwAuthenticate: typeof w === 'string' && /^[\t\x20-\x7e]*$/.test(w) ? w : null };
    }
    return { kind: 'unavailable', why: `status ${s}` };
  }
}
