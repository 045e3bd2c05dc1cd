/**
 * Everything the edge decides for one route, compiled once per config, in
 * the order that spends least on a client that will be refused:
 *
 *   address (allow/deny) -> Origin (upgrades) -> rate limit -> JWT -> external auth
 *
 * check() returns what the forwarded request must carry (HeaderEdits, the
 * real client address, when the token expires) or the WshaError to answer
 * with. A route without any of these has no RoutePolicy at all (decided at
 * configuration time: the handlers skip the call).
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { RouteConfig } from '../../shared/config/schema';
import type { MessagesConfig } from '../../shared/config/edge-schema';
import type { SharedRateLimit } from '../../shared/ports/shared-rate-limit';
import { AccessDeniedError, AuthenticationError, AuthUnavailableError, RateLimitedError, type WshaError } from '../../shared/errors';
import { CidrList } from './cidr';
import { OriginMatcher } from './origin-matcher';
import { clientAddressOf } from './client-address';
import { claimValue, type HeaderEdits } from './edge-headers';
import { extractToken } from '../auth/token-extract';
import { JwtVerifier } from '../auth/jwt-verifier';
import type { JwksSource } from '../auth/jwks-source';
import { ExtAuthClient } from '../auth/ext-auth-client';
import { RouteRateLimiter, type RateKind } from '../limits/rate-limiter';

/** What a request that got in carries on. */
export interface Admitted extends HeaderEdits {
  /** The client address the route judged (X-Forwarded-For hop when trusted). */
  readonly clientAddress: string;
  /** Wall-clock ms when the tunnel must close (token expiry), 0 for never. */
  readonly expiresAtMs: number;
  /** The query forwarded instead of the client's (the token parameter removed, with its `?`, '' for none), or null to forward it as sent. */
  readonly query: string | null;
}

/** The request facts a policy reads. */
export interface EdgeRequest {
  req: IncomingMessage;
  kind: RateKind;
  socketAddress: string;
  host: string;
  path: string;
  query: string;
  proto: string;
}

/** What a policy is built with. */
export interface PolicyDeps {
  log: Logger;
  /** This process's share of per-node rates (1/N with N worker processes). */
  share: number;
  shared: SharedRateLimit | null;
  sharedTimeoutMs: number;
  /** A JWKS source of the previous config with the same settings, to keep its keys across a reload. */
  reuseJwks(url: string, settings: string): JwksSource | null;
}

const NO_STRIP: ReadonlySet<string> = new Set();

/** One route's edge policy. */
export class RoutePolicy {
  readonly name: string;
  readonly #allow: CidrList | null;
  readonly #deny: CidrList | null;
  readonly #hops: number;
  readonly #origins: OriginMatcher | null;
  readonly #allowMissingOrigin: boolean;
  readonly rate: RouteRateLimiter | null;
  readonly jwt: JwtVerifier | null;
  readonly ext: ExtAuthClient | null;
  readonly #strip: ReadonlySet<string>;
  readonly #claimHeaders: ReadonlyArray<readonly [string, string]>;
  readonly messages: MessagesConfig | null;
  readonly closeAtExpiry: boolean;
  readonly realm: string;

  constructor(name: string, r: RouteConfig, deps: PolicyDeps) {
    this.name = name;
    const a = r.access;
    this.#allow = a?.allow?.length ? new CidrList(a.allow) : null;
    this.#deny = a?.deny?.length ? new CidrList(a.deny) : null;
    this.#hops = a?.trustedForwardedHops ?? 0;
    this.#origins = a?.origins ? new OriginMatcher(a.origins) : null;
    this.#allowMissingOrigin = a?.allowMissingOrigin ?? true;
    this.rate = r.rateLimit ? new RouteRateLimiter(name, r.rateLimit, { share: deps.share, shared: deps.shared, timeoutMs: deps.sharedTimeoutMs }) : null;
    const jwt = r.auth?.jwt;
    this.jwt = jwt ? new JwtVerifier(jwt, deps.log.child({ route: name }), { jwks: jwt.jwks ? deps.reuseJwks(jwt.jwks.url, JSON.stringify(jwt.jwks)) : null }) : null;
    this.ext = r.auth?.external ? new ExtAuthClient(r.auth.external) : null;
    this.#claimHeaders = Object.entries(jwt?.claimHeaders ?? {});
    const strip = new Set<string>();
    for (const [, h] of this.#claimHeaders) strip.add(h.toLowerCase());
    for (const h of r.auth?.external?.responseHeaders ?? []) strip.add(h.toLowerCase());
    this.#strip = strip.size ? strip : NO_STRIP;
    this.messages = r.messages ?? null;
    this.closeAtExpiry = jwt?.closeAtExpiry ?? false;
    this.realm = jwt?.realm ?? 'wsha';
  }

  /** True when a route config asks for any edge check. */
  static wanted(r: RouteConfig): boolean {
    return !!(r.access || r.auth?.jwt || r.auth?.external || r.rateLimit || r.messages);
  }

  /** Starts background work (JWKS refresh). */
  start(): void { this.jwt?.start(); }

  /** Stops it and closes the auth-service sockets. */
  stop(keepJwks: boolean): void {
    if (!keepJwks) this.jwt?.stop();
    this.ext?.close();
  }

  /** Admits `e` or returns the error to answer it with. Never rejects. */
  async check(e: EdgeRequest): Promise<Admitted | WshaError> {
    const address = clientAddressOf(e.req, e.socketAddress, this.#hops);
    if (this.#deny?.has(address)) return new AccessDeniedError('address', `client address ${address} is denied on this route`);
    if (this.#allow && !this.#allow.has(address)) return new AccessDeniedError('address', `client address ${address} is not allowed on this route`);
    if (this.#origins && e.kind === 'upgrades') {
      const origin = e.req.headers.origin;
      if (origin === undefined ? !this.#allowMissingOrigin : !this.#origins.allows(origin)) {
        return new AccessDeniedError('origin', origin === undefined ? 'an Origin header is required on this route' : `origin ${origin.slice(0, 100)} is not allowed on this route`);
      }
    }
    if (this.rate?.limits(e.kind)) {
      const refused = await this.rate.check(e.kind, address, performance.now());
      if (refused) return new RateLimitedError(`rate-${refused.scope}`, `${e.kind === 'upgrades' ? 'connection' : 'request'} rate limit ${refused.scope === 'client' ? 'per client address' : 'of this route'} reached`, refused.retryAfterSec);
    }
    const add: Array<[string, string]> = [];
    let protocol: string | null = null;
    let query: string | null = null;
    let expiresAtMs = 0;
    if (this.jwt) {
      const found = extractToken(e.req, e.query, this.jwt.config.tokenFrom);
      if (!found) return new AuthenticationError('token-missing', 'a bearer token is required');
      if (found.protocolRest !== null) protocol = found.protocolRest;
      if (found.queryRest !== null) query = found.queryRest;
      try {
        const v = await this.jwt.verify(found.token);
        if (this.closeAtExpiry) expiresAtMs = v.expiresAtMs;
        for (const [claim, header] of this.#claimHeaders) {
          const value = v.payload[claim];
          if (value !== undefined && value !== null) add.push([header, claimValue(value)]);
        }
      } catch (err) {
        return err as AuthenticationError;
      }
    }
    if (this.ext) {
      const refused = await this.#external(e, address, add);
      if (refused) return refused;
    }
    return { clientAddress: address, strip: this.#strip === NO_STRIP ? null : this.#strip, add, protocol, expiresAtMs, query };
  }

  async #external(e: EdgeRequest, address: string, add: Array<[string, string]>): Promise<WshaError | null> {
    const d = await this.ext!.check({ method: e.req.method ?? 'GET', uri: e.path + e.query, host: e.host, clientAddress: address, proto: e.proto, req: e.req });
    if (d.kind === 'allow') { for (const h of d.headers) add.push(h); return null; }
    if (d.kind === 'deny') {
      if (d.status === 403) return new AccessDeniedError('ext-denied', 'denied by the authorisation service');
      return new AuthenticationError('ext-denied', 'the authorisation service asks for credentials', d.wwwAuthenticate);
    }
    if (this.ext!.config.failOpen) return null;
    return new AuthUnavailableError(`authorisation service unavailable (${d.why})`);
  }
}
