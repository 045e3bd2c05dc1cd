/**
 * Config schema of the edge (issue 12): who may connect to a route, with
 * which token, how often, and how fast a pool's backends are asked to take
 * WebSocket handshakes. Kept apart from schema.ts, which imports these; the
 * README reference reads the TSDoc lines of both files.
 */
import { z } from 'zod';
import { isIP } from 'node:net';
import { DEFAULTS } from './defaults';

const E = DEFAULTS.edge;
const ms = (what = 'a duration in milliseconds') => z.number({ error: `expected ${what}` }).int({ error: `expected ${what}` }).nonnegative({ error: `expected ${what}` });
const positiveInt = (what: string) => z.number({ error: `expected ${what}` }).int({ error: `expected ${what}` }).positive({ error: `expected ${what}` });
const intIn = (lo: number, hi: number, what: string) => {
  const e = { error: `expected ${what} from ${lo} to ${hi}` };
  return z.number(e).int(e).min(lo, e).max(hi, e);
};
const rate = z.number({ error: 'expected a rate per second' }).positive({ error: 'expected a rate per second above 0' });
const headerName = z.string({ error: 'expected a header name' }).regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, { error: 'expected a header name' });
const filePath = z.string({ error: 'expected a file path' }).min(1, { error: 'expected a file path' });
const httpUrl = z.string({ error: 'expected an http(s) URL' }).refine((s) => { try { return /^https?:$/.test(new URL(s).protocol); } catch { return false; } }, { error: 'expected an http(s) URL' });

/** True for `ADDRESS` or `ADDRESS/PREFIX` (IPv4 or IPv6). */
export function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const family = isIP(addr);
  if (family === 0) return false;
  if (slash < 0) return true;
  const bits = s.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}
const cidr = z.string({ error: 'expected a CIDR such as 10.0.0.0/8 or 2001:db8::/32' }).refine(isCidr, { error: 'expected a CIDR such as 10.0.0.0/8 or 2001:db8::/32' });
/** `https://app.example.com[:port]`, `https://*.example.com` or `*.example.com` (any scheme). */
const originPattern = z.string({ error: 'expected an origin such as https://app.example.com or https://*.example.com' })
  .regex(/^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?$/i, { error: 'expected an origin such as https://app.example.com or https://*.example.com (no path)' });

/** routes[].access: address lists and the Origin allow-list of one route. */
export const AccessSchema = z.strictObject({
  /** CIDRs (IPv4 or IPv6) a client address must be in; absent or empty lets every address in (403 otherwise). */
  allow: z.array(cidr, { error: 'expected a list of CIDRs' }).optional(),
  /** CIDRs refused even when `allow` matches (403). */
  deny: z.array(cidr, { error: 'expected a list of CIDRs' }).optional(),
  /** X-Forwarded-For entries added by proxies you trust in front of wsha: the client address is the entry this many from the right. 0 ignores the header. @default 0 */
  trustedForwardedHops: z.number({ error: 'expected a count from 0 to 10' }).int().min(0).max(10).default(E.trustedForwardedHops),
  /** Origins allowed to open WebSockets on this route: exact origins and `*.example.com` patterns (with a scheme, or without for any scheme); absent means any Origin (403 otherwise). */
  origins: z.array(originPattern, { error: 'expected a list of origins' }).optional(),
  /** Let an upgrade without an Origin header through when `origins` is set (non-browser clients send none). @default true */
  allowMissingOrigin: z.boolean().default(E.allowMissingOrigin),
});

/** routes[].auth.jwt.tokenFrom: where the token is looked for, in this order. */
export const TokenFromSchema = z.strictObject({
  /** `Authorization: Bearer TOKEN`. @default true */
  bearer: z.boolean().default(true),
  /** Cookie holding the token. */
  cookie: z.string().min(1).optional(),
  /** Query parameter holding the token. */
  query: z.string().min(1).optional(),
  /** `Sec-WebSocket-Protocol` entry prefix (e.g. `base64url.bearer.authorization.k8s.io.`); that entry is removed before the backend sees the header. */
  protocolPrefix: z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, { error: 'expected a token prefix (no spaces or commas)' }).optional(),
});

/** routes[].auth.jwt.jwks: a JWKS endpoint. */
export const JwksSchema = z.strictObject({
  /** http(s) URL of the JWKS document. */
  url: httpUrl,
  /** A fetch not answered within this time fails (the last good set stays in use). @default 2000 */
  timeoutMs: positiveInt('a duration in milliseconds').default(E.jwksTimeoutMs),
  /** The set is refreshed in the background this often. @default 300000 */
  refreshIntervalMs: positiveInt('a duration in milliseconds').default(E.jwksRefreshIntervalMs),
  /** A token with an unknown `kid` triggers at most one refresh per this interval. @default 30000 */
  unknownKidRefreshMs: positiveInt('a duration in milliseconds').default(E.jwksUnknownKidRefreshMs),
});

/** routes[].auth.jwt: JWT verification. */
export const JwtSchema = z.strictObject({
  tokenFrom: TokenFromSchema.prefault({}),
  /** Accepted algorithms. @default RS256, ES256, EdDSA */
  algorithms: z.array(z.enum(['RS256', 'ES256', 'EdDSA', 'HS256'], { error: 'expected RS256, ES256, EdDSA or HS256' })).min(1).default([...E.jwtAlgorithms]),
  /** Public keys as PEM (SPKI), JWK or JWKS files (re-read on SIGHUP). */
  keyFiles: z.array(filePath, { error: 'expected a list of file paths' }).optional(),
  /** File holding the HS256 shared secret (at least 32 bytes). */
  secretFile: filePath.optional(),
  jwks: JwksSchema.optional(),
  /** Required `iss` (one value or a list). */
  issuer: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** Required `aud` (the token must name one of these). */
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** Clock skew allowed on `exp` and `nbf`. @default 30000 */
  leewayMs: ms().default(E.jwtLeewayMs),
  /** Refuse tokens without `exp`. @default true */
  requireExp: z.boolean().default(true),
  /** Claims forwarded to the backend as headers, `claim: Header-Name`; incoming headers of these names are always removed. */
  claimHeaders: z.record(z.string().min(1), headerName).optional(),
  /** Close an open tunnel with 1008 when its token expires. @default true */
  closeAtExpiry: z.boolean().default(true),
  /** Realm named in WWW-Authenticate. @default wsha */
  realm: z.string().regex(/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/, { error: 'expected printable text without quotes or backslashes' }).default(E.jwtRealm),
  /** Verified tokens remembered per route and worker process (least recently used dropped first), so a token presented again skips the signature check; `exp`/`nbf` are still checked on every use, and a key set change empties the cache. 0 turns it off. @default 10000 */
  cacheEntries: intIn(0, 1_000_000, 'a count').default(E.jwtCacheEntries),
  /** Longest time a verified token is served from the cache before it is verified again. @default 60000 */
  cacheMaxTtlMs: intIn(1, 3_600_000, 'a duration in milliseconds').default(E.jwtCacheMaxTtlMs),
});

/** routes[].auth.external: external authorisation (auth_request, ext_authz, ForwardAuth). */
export const ExternalAuthSchema = z.strictObject({
  /** http(s) URL of the auth service; it gets GET with X-Forwarded-Method, -Uri, -Host, -For, -Proto and the headers below. */
  url: httpUrl,
  /** Request headers sent to the service (the credential, e.g. authorization, cookie). @default authorization, cookie */
  headers: z.array(headerName).default([...E.extAuthHeaders]),
  /** Headers of a 2xx answer copied onto the backend request (incoming headers of these names are always removed). */
  responseHeaders: z.array(headerName).optional(),
  /** An answer not received within this time counts as unavailable. @default 1000 */
  timeoutMs: positiveInt('a duration in milliseconds').default(E.extAuthTimeoutMs),
  /** Let requests through when the service is unavailable (timeout, refused, 5xx) instead of answering 503. @default false */
  failOpen: z.boolean().default(false),
  /** Allow/deny decisions are cached per credential (the headers above) for this long; 0 is off. @default 0 */
  cacheTtlMs: ms().default(0),
});

/** routes[].auth: authentication of one route. */
export const AuthSchema = z.strictObject({
  jwt: JwtSchema.optional(),
  external: ExternalAuthSchema.optional(),
});

/** A token bucket: a steady rate and the burst it may save up. */
export const BucketSchema = z.strictObject({
  /** Tokens added per second. */
  ratePerSec: rate,
  /** Largest number of tokens saved up; defaults to one second's worth (at least 1). */
  burst: positiveInt('a count').optional(),
});

/** routes[].rateLimit.upgrades and .requests: buckets per client address and for the whole route. */
export const RateScopeSchema = z.strictObject({
  perClient: BucketSchema.optional(),
  perRoute: BucketSchema.optional(),
});

/** routes[].rateLimit: new WebSocket connections and HTTP requests per second (429 with Retry-After). */
export const RateLimitSchema = z.strictObject({
  upgrades: RateScopeSchema.optional(),
  requests: RateScopeSchema.optional(),
  /** Count in Redis for the whole cluster; when Redis is slower than `cluster.redis.rateLimitTimeoutMs` or down, this node's own buckets decide. @default false */
  cluster: z.boolean().default(false),
});

/** routes[].messages: limits on the client-to-backend messages of each tunnel (frame headers only). */
export const MessagesSchema = z.strictObject({
  /** Messages per second a client may send (burst: `burst`); the tunnel is closed with 1008 above. */
  ratePerSec: rate.optional(),
  /** Messages a client may send in a burst. Defaults to one second's worth. */
  burst: positiveInt('a count').optional(),
  /** Largest message (all its fragments) a client may send; the tunnel is closed with 1009 above. */
  maxBytes: positiveInt('a size in bytes').optional(),
});

/** pools.NAME.admission: backend WebSocket handshakes per second, with a short queue (503 with Retry-After beyond it). */
export const AdmissionSchema = z.strictObject({
  /** Handshakes sent to this pool's backends per second (by this node). */
  handshakesPerSec: rate,
  /** Handshakes that may go out at once after a quiet period. @default 1 second's worth */
  burst: positiveInt('a count').optional(),
  /** Handshakes that may wait for their turn; beyond it, 503. @default 1000 */
  queueSize: ms('a count').default(E.admissionQueueSize),
  /** Longest wait in the queue; 503 after. @default 2000 */
  queueTimeoutMs: positiveInt('a duration in milliseconds').default(E.admissionQueueTimeoutMs),
  /** Retry-After of a refused handshake is drawn from [1, this] seconds (jitter spreads the retries). @default 10 */
  retryAfterMaxSec: positiveInt('a count of seconds').default(E.admissionRetryAfterMaxSec),
});

export type AccessConfig = z.output<typeof AccessSchema>;
export type JwtConfig = z.output<typeof JwtSchema>;
export type JwksConfig = z.output<typeof JwksSchema>;
export type ExternalAuthConfig = z.output<typeof ExternalAuthSchema>;
export type AuthConfig = z.output<typeof AuthSchema>;
export type BucketConfig = z.output<typeof BucketSchema>;
export type RateLimitConfig = z.output<typeof RateLimitSchema>;
export type MessagesConfig = z.output<typeof MessagesSchema>;
export type AdmissionConfig = z.output<typeof AdmissionSchema>;
