/**
 * Every default of wsha in one frozen object. Units are in the names (`*Ms`,
 * `*Bytes`, `*Count`, `*PerSec`). No number here appears anywhere else: code
 * reads the validated config, and the schema fills gaps from this object.
 */
export const DEFAULTS = Object.freeze({
  redis: Object.freeze({
    url: 'redis://127.0.0.1:6379',
    /** Timeout of one command on the lease connection; a late renewal is worse than none. */
    leaseCommandTimeoutMs: 300,
    connectTimeoutMs: 1000,
    sentinelName: 'mymaster',
  }),
  heartbeat: Object.freeze({
    intervalMs: 200,
    /** A peer whose heartbeat is older than this is seen as down (silent host). */
    timeoutMs: 1000,
  }),
  lease: Object.freeze({
    /** TTL of a VIP lease in Redis. */
    ttlMs: 800,
    /** How often the owner renews. */
    renewIntervalMs: 100,
    /** The owner steps down this long before its lease could expire unrenewed. */
    stepDownMarginMs: 150,
    /** How often a standby looks for a free lease. */
    acquirePollMs: 100,
    /** Delay per priority rank below the best candidate before a standby tries to acquire. */
    rankDelayMs: 150,
  }),
  peer: Object.freeze({
    /** Node-to-node link used to see a dead peer at once; port 0 picks a free port. */
    listen: '127.0.0.1:0',
    /** How long a standby waits for the refused-connect confirmation of a dead peer. */
    confirmTimeoutMs: 200,
  }),
  handover: Object.freeze({
    /** WebSocket clients closed with 1012 per second on the old owner. */
    closeRatePerSec: 1000,
    /** The 1012 closes are spread over this window. */
    closeWindowMs: 2000,
    /** Longest make-before-break overlap (both nodes listening) of a planned handover. */
    maxOverlapMs: 1000,
    /** Longest a planned handover may take before it is abandoned. */
    timeoutMs: 10000,
  }),
  drain: Object.freeze({
    /** On SIGTERM, WebSocket clients get 1001 after this grace period. */
    graceMs: 5000,
    /** Hard deadline after which whatever is left is destroyed and the process exits. */
    deadlineMs: 30000,
  }),
  limits: Object.freeze({
    handshakeTimeoutMs: 10000,
    maxHeaderBytes: 16384,
    maxConnections: 10000,
    maxConnectionsPerClient: 1000,
    /** 0 turns the idle timeout of WebSocket tunnels off. */
    idleTimeoutMs: 0,
    backendConnectTimeoutMs: 5000,
    /** Longest an ordinary HTTP request may take end to end. */
    requestTimeoutMs: 60000,
  }),
  health: Object.freeze({
    type: 'tcp' as const,
    path: '/',
    expectStatus: '200-399',
    intervalMs: 2000,
    timeoutMs: 1000,
    riseCount: 2,
    fallCount: 3,
    /** Failed connects or handshakes from live traffic that mark a backend down. */
    passiveFailCount: 3,
    /** An observation older than this many probe intervals is not fresh. */
    freshIntervals: 3,
    verdict: 'majority' as const,
  }),
  affinity: Object.freeze({
    ttlMs: 30 * 60 * 1000,
    /** A sticky lookup slower than this falls back to hashing: a handshake never waits long on Redis. */
    lookupTimeoutMs: 50,
    cookieName: 'wsha_sid',
  }),
  vip: Object.freeze({
    preempt: false,
    prefixV4: 32,
    prefixV6: 128,
    execTimeoutMs: 5000,
    garpCount: 3,
    garpIntervalMs: 200,
  }),
  admin: Object.freeze({
    listen: '127.0.0.1:9901',
  }),
  node: Object.freeze({
    priority: 100,
  }),
  logging: Object.freeze({
    level: 'info' as const,
  }),
  // ---- access boundary (issue 10) ----
  access: Object.freeze({
    /** `%2F` in a path is refused (400) unless a route opts in. */
    allowEncodedSlashes: false,
    /** Certificates of https:// and wss:// backends are verified. */
    backendTlsVerify: true,
  }),
  // ---- end access boundary ----
});
