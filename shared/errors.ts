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

/** Every error class, for the test that keeps codes and docs honest. */
export const ERROR_CLASSES = {
  ConfigError, NoRouteError, NoBackendError, BackendError, BadRequestError, LimitError, ShutdownError,
  NotOwnerError, LeaseLostError, StaleEpochError, HandoverError, RedisUnavailableError, VipDriverError,
  UnauthorizedError, NotFoundError, PoolChangeError,
  BadPathError, BadFramingError, BadUpgradeResponseError,
} as const;
