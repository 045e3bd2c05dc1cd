/**
 * Every error wsha raises on purpose, with a stable `WSHA_ERR_*` code. Tests
 * check codes, never messages; test/unit/shared/errors.test.ts keeps each
 * code equal to its class name and documented in docs (README "Error codes").
 */

/** Base class: a stable code, and where it applies an HTTP status and a WebSocket close code. */
export class WshaError extends Error {
  readonly code: string;
  readonly httpStatus: number | undefined;
  readonly wsCloseCode: number | undefined;
  constructor(code: string, message: string, opts: { httpStatus?: number; wsCloseCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.httpStatus = opts.httpStatus;
    this.wsCloseCode = opts.wsCloseCode;
  }
}

/** The config file is missing, unreadable, not YAML, or fails the schema; `problems` lists every bad key. */
export class ConfigError extends WshaError {
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = []) {
    super('WSHA_ERR_CONFIG', problems.length ? `${message}:\n  ${problems.join('\n  ')}` : message);
    this.problems = problems;
  }
}

/** No route matches the request's host and path. */
export class NoRouteError extends WshaError {
  constructor(host: string, path: string) { super('WSHA_ERR_NO_ROUTE', `no route for host ${host} path ${path}`, { httpStatus: 404 }); }
}

/** The pool has no healthy, enabled backend. */
export class NoBackendError extends WshaError {
  constructor(pool: string) { super('WSHA_ERR_NO_BACKEND', `no healthy backend in pool ${pool}`, { httpStatus: 503, wsCloseCode: 1013 }); }
}

/** The backend refused, timed out or broke the connection or handshake. */
export class BackendError extends WshaError {
  constructor(backend: string, reason: string, httpStatus = 502, cause?: unknown) {
    super('WSHA_ERR_BACKEND', `backend ${backend}: ${reason}`, { httpStatus, wsCloseCode: 1014, cause });
  }
}

/** The client's request is malformed (bad request line, bad WebSocket handshake headers). */
export class BadRequestError extends WshaError {
  constructor(reason: string) { super('WSHA_ERR_BAD_REQUEST', reason, { httpStatus: 400 }); }
}

/** A limit was hit: too many connections, headers too large, too slow. */
export class LimitError extends WshaError {
  readonly limit: string;
  constructor(limit: string, message: string, httpStatus: number) {
    super('WSHA_ERR_LIMIT', message, { httpStatus });
    this.limit = limit;
  }
}

/** The node is draining or shutting down and takes no new work. */
export class ShutdownError extends WshaError {
  constructor() { super('WSHA_ERR_SHUTDOWN', 'node is shutting down', { httpStatus: 503, wsCloseCode: 1001 }); }
}

/** A leader-only request reached a node that does not own the VIP. */
export class NotOwnerError extends WshaError {
  constructor(vip: string, owner: string | null) { super('WSHA_ERR_NOT_OWNER', `this node does not own VIP ${vip}${owner ? ` (owner: ${owner})` : ''}`, { httpStatus: 409 }); }
}

/** The lease was lost: renewal refused or not confirmed before the step-down deadline. */
export class LeaseLostError extends WshaError {
  constructor(vip: string, reason: string) { super('WSHA_ERR_LEASE_LOST', `lease on VIP ${vip} lost: ${reason}`); }
}

/** An operation carried an epoch older than the VIP's current one (fencing). */
export class StaleEpochError extends WshaError {
  constructor(vip: string, epoch: number, current: number) { super('WSHA_ERR_STALE_EPOCH', `VIP ${vip}: epoch ${epoch} is stale (current ${current})`, { httpStatus: 409 }); }
}

/** A planned handover or drain could not start or finish; `reason` says why, nothing moved unless stated. */
export class HandoverError extends WshaError {
  constructor(message: string) { super('WSHA_ERR_HANDOVER', message, { httpStatus: 409 }); }
}

/** Redis could not be reached or answered with an error. */
export class RedisUnavailableError extends WshaError {
  constructor(address: string, cause?: unknown) { super('WSHA_ERR_REDIS_UNAVAILABLE', `cannot reach Redis at ${address}`, { httpStatus: 503, cause }); }
}

/** A VIP driver failed to bring the address up or down. */
export class VipDriverError extends WshaError {
  constructor(vip: string, driver: string, reason: string, cause?: unknown) { super('WSHA_ERR_VIP_DRIVER', `VIP ${vip} (${driver}): ${reason}`, { cause }); }
}

/** Missing or wrong admin token. */
export class UnauthorizedError extends WshaError {
  constructor() { super('WSHA_ERR_UNAUTHORIZED', 'missing or wrong bearer token', { httpStatus: 401 }); }
}

/** A pool, backend, node or VIP named by an operator does not exist. */
export class NotFoundError extends WshaError {
  constructor(what: string) { super('WSHA_ERR_NOT_FOUND', `${what} not found`, { httpStatus: 404 }); }
}

/** A live pool change (`wsha backends add|remove|disable|enable`) conflicts with the pool: the backend already exists, or is already in that state. */
export class PoolChangeError extends WshaError {
  constructor(message: string) { super('WSHA_ERR_POOL_CHANGE', message, { httpStatus: 409 }); }
}

/** A data-plane worker process could not do what the control process asked (none running, or it died or timed out). */
export class WorkerError extends WshaError {
  constructor(message: string) { super('WSHA_ERR_WORKER', message, { httpStatus: 503 }); }
}

// ---- access boundary (issue 10): refusals of hostile or ambiguous input ----

/** The request path cannot be routed safely: an encoded slash or backslash, a NUL, a bad escape, a disguised dot segment, or dot segments above the root. */
export class BadPathError extends WshaError {
  constructor(reason: string) { super('WSHA_ERR_BAD_PATH', reason, { httpStatus: 400 }); }
}

/** The request body framing cannot be forwarded unambiguously (Transfer-Encoding other than chunked, on HTTP/1.0, or beside Content-Length); the connection is closed. */
export class BadFramingError extends WshaError {
  constructor(reason: string) { super('WSHA_ERR_BAD_FRAMING', reason, { httpStatus: 400 }); }
}

/** The backend answered an upgrade with a 101 that fails verification (Upgrade, Connection or Sec-WebSocket-Accept wrong or missing); the client gets 502. */
export class BadUpgradeResponseError extends WshaError {
  constructor(reason: string) { super('WSHA_ERR_BAD_UPGRADE_RESPONSE', reason, { httpStatus: 502, wsCloseCode: 1014 }); }
}

// ---- edge (issue 12): access control, authentication, rate limits, admission ----

/** The route refused the client: its address is not allowed or denied, or its Origin is not in the allow-list (403). `reason` is the counter label. */
export class AccessDeniedError extends WshaError {
  readonly reason: string;
  constructor(reason: string, message = 'access denied', httpStatus = 403) { super('WSHA_ERR_ACCESS_DENIED', message, { httpStatus, wsCloseCode: 1008 }); this.reason = reason; }
}

/** No token, or a token that fails verification (signature, unknown key, exp, nbf, iss, aud); answered 401 with WWW-Authenticate. */
export class AuthenticationError extends WshaError {
  readonly reason: string;
  /** A WWW-Authenticate value to relay as it is (from an external auth service), else null. */
  readonly challenge: string | null;
  constructor(reason: string, message = 'authentication required', challenge: string | null = null) {
    super('WSHA_ERR_AUTHENTICATION', message, { httpStatus: 401, wsCloseCode: 1008 });
    this.reason = reason;
    this.challenge = challenge;
  }
}

/** The external authorisation service could not decide (timeout, refused connection, 5xx) and the route does not fail open (503). */
export class AuthUnavailableError extends WshaError {
  constructor(message: string) { super('WSHA_ERR_AUTH_UNAVAILABLE', message, { httpStatus: 503 }); }
}

/** A rate limit of the route (per client address or per route) is exhausted; answered 429 with Retry-After. */
export class RateLimitedError extends WshaError {
  readonly reason: string;
  readonly retryAfterSec: number;
  constructor(reason: string, message = 'rate limit reached', retryAfterSec = 1) { super('WSHA_ERR_RATE_LIMITED', message, { httpStatus: 429 }); this.reason = reason; this.retryAfterSec = retryAfterSec; }
}

/** The pool's backend admission (pools.NAME.admission) has no room: its queue is full or the wait ran out; answered 503 with a jittered Retry-After. */
export class AdmissionError extends WshaError {
  readonly retryAfterSec: number;
  constructor(message: string, retryAfterSec = 1) { super('WSHA_ERR_ADMISSION', message, { httpStatus: 503, wsCloseCode: 1013 }); this.retryAfterSec = retryAfterSec; }
}

/** A client broke a per-connection message limit (routes[].messages): 1008 for the rate, 1009 for the size. */
export class MessageLimitError extends WshaError {
  constructor(message: string, wsCloseCode = 1008) { super('WSHA_ERR_MESSAGE_LIMIT', message, { wsCloseCode }); }
}

/** A JWT key file, secret file or JWKS document cannot be read or holds no usable key. */
export class KeyLoadError extends WshaError {
  constructor(message: string, cause?: unknown) { super('WSHA_ERR_KEY_LOAD', message, { cause }); }
}

/** Every error class, for the test that keeps codes and docs honest. */
export const ERROR_CLASSES = {
  ConfigError, NoRouteError, NoBackendError, BackendError, BadRequestError, LimitError, ShutdownError,
  NotOwnerError, LeaseLostError, StaleEpochError, HandoverError, RedisUnavailableError, VipDriverError,
  UnauthorizedError, NotFoundError, PoolChangeError, WorkerError,
  BadPathError, BadFramingError, BadUpgradeResponseError,
  AccessDeniedError, AuthenticationError, AuthUnavailableError, RateLimitedError, AdmissionError, MessageLimitError, KeyLoadError,
} as const;
