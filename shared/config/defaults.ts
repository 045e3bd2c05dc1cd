/**
 * Every default of wsha in one frozen object. Units are in the names (`*Ms`,
 * `*Bytes`, `*Count`, `*PerSec`). No number here appears anywhere else: code
 * reads the validated config, and the schema fills gaps from this object.
 */
export const DEFAULTS = Object.freeze({
  redis: Object.freeze({
    url: 'redis://127.0.0.1:6379',
    /**
     * Timeout of one command on the lease connection (never queued while disconnected). Not a safety margin: a
     * renewal's authority counts from when it was sent, so a slow answer is still a good one.
     */
    leaseCommandTimeoutMs: 1000,
    /** Lease writes wait for a replica's acknowledgement: `auto` = once the master was seen with a replica. */
    replicaAck: 'auto' as const,
    replicaAckTimeoutMs: 100,
    connectTimeoutMs: 1000,
    sentinelName: 'mymaster',
  }),
  heartbeat: Object.freeze({
    intervalMs: 200,
    /** A peer whose heartbeat is older than this (Redis's clock) is seen as down. */
    timeoutMs: 1000,
    /** A node's last heartbeat is kept this long after it stopped writing it. */
    forgetAfterMs: 24 * 60 * 60 * 1000,
  }),
  lease: Object.freeze({
    /** TTL of a VIP lease in Redis: with the margin, how long a silent host keeps the VIP. */
    ttlMs: 200,
    /** How often the owner renews (and refreshes its peer grants). */
    renewIntervalMs: 40,
    /** The owner steps down this long before its lease (or a grant) could expire unrenewed. */
    stepDownMarginMs: 40,
    /** How often a standby looks for a free lease. */
    acquirePollMs: 50,
    /** Delay per priority rank below the best candidate before a standby tries to acquire. */
    rankDelayMs: 50,
    /** A stalled owner (process silent, host answering) keeps the VIP this long. */
    stallBudgetMs: 2000,
    /**
     * A standby takes a stalled owner's VIP only this long after the stall budget ran out, the time the owner's
     * guard needs to take the address (or the listeners) away first.
     */
    guardLeadMs: 200,
  }),
  peer: Object.freeze({
    /** Node-to-node link used to see a dead peer at once; port 0 picks a free port. */
    listen: '127.0.0.1:0',
    /** How long a standby waits for the refused-connect confirmation of a dead peer. */
    confirmTimeoutMs: 200,
    /** Beats between peers (the owner's beats ask for grants). */
    beatIntervalMs: 40,
    /** A grant's life: the granter does not acquire before it runs out. */
    grantTtlMs: 200,
    /** Kernel probes of a peer whose process went quiet. */
    probeIntervalMs: 20,
    probeTimeoutMs: 40,
    probeMisses: 3,
    /** Unauthenticated peer connections are closed after this. */
    authTimeoutMs: 1000,
    maxConnections: 64,
    /** After a link to a peer closed, how long death is looked for (refused reconnects) before the lease decides. */
    confirmWindowMs: 1000,
    /** Longest peer-link message line. */
    maxLineBytes: 65_536,
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
    /**
     * 0 is off (issue 12): behind an L4 balancer without PROXY protocol every client has the balancer's address, and
     * a per-address cap would silently cap the whole deployment. Per-client rates belong to routes[].rateLimit.
     */
    maxConnectionsPerClient: 0,
    /** 0 turns the idle timeout of WebSocket tunnels off. */
    idleTimeoutMs: 0,
    backendConnectTimeoutMs: 5000,
    /** Longest an ordinary HTTP request may take end to end. */
    requestTimeoutMs: 60000,
    /**
     * TCP keepalive idle time of client and backend sockets: Linux's own default (tcp_keepalive_time). Node probes
     * an unanswered socket every second, ten times, then aborts it, and probes of sockets armed together go out in one
     * kernel timer tick; a short delay makes every reconnect storm a probe storm (deploy/docs/performance.md).
     */
    tcpKeepAliveMs: 7_200_000,
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
    /** How VIPs go to nodes: by priority (each to its best node) or spread evenly. */
    placement: 'priority' as const,
    preempt: false,
    prefixV4: 32,
    prefixV6: 128,
    execTimeoutMs: 5000,
    garpCount: 3,
    garpIntervalMs: 200,
  }),
  admin: Object.freeze({
    listen: '127.0.0.1:9901',
    /** Who an admin action through the API is recorded as, in the event history. */
    tokenName: 'admin',
  }),
  history: Object.freeze({
    /** Events kept in the history stream (about 300 bytes each in Redis). */
    maxCount: 50_000,
    /** Events are kept a week. */
    maxAgeMs: 7 * 24 * 60 * 60 * 1000,
    /** Events a node buffers while Redis is unreachable. */
    bufferCount: 1000,
    /** Connection-count samples: one per node every 10 s, kept a day (the live page's longest window). */
    sampleIntervalMs: 10_000,
    sampleMaxCount: 100_000,
    sampleMaxAgeMs: 24 * 60 * 60 * 1000,
    /** Refusals (limits, access) are summed over one minute per node. */
    refusalWindowMs: 60_000,
    /** Shortest sample interval that is not off: samples are a trend, not a counter. */
    minSampleIntervalMs: 1000,
  }),
  node: Object.freeze({
    priority: 100,
    /** Data-plane worker processes (`workers: 1` is one worker, as a node always had one event loop for its traffic). */
    workers: 1 as number | 'auto',
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
  // ---- edge (issue 12): access control, authentication, rate limits, admission ----
  edge: Object.freeze({
    trustedForwardedHops: 0,
    allowMissingOrigin: true,
    jwksTimeoutMs: 2000,
    jwksRefreshIntervalMs: 300_000,
    jwksUnknownKidRefreshMs: 30_000,
    jwtAlgorithms: Object.freeze(['RS256', 'ES256', 'EdDSA'] as const),
    jwtLeewayMs: 30_000,
    jwtRealm: 'wsha',
    /** Verified tokens cached per route and worker process (0 = off). */
    jwtCacheEntries: 10_000,
    /** Longest a verified token is served from that cache. */
    jwtCacheMaxTtlMs: 60_000,
    extAuthHeaders: Object.freeze(['authorization', 'cookie'] as const),
    extAuthTimeoutMs: 1000,
    /** Most entries of one route's external-auth decision cache. */
    extAuthCacheEntries: 10_000,
    admissionQueueSize: 1000,
    admissionQueueTimeoutMs: 2000,
    admissionRetryAfterMaxSec: 10,
    /** Most client addresses with a rate bucket per route; the least recently used are forgotten beyond it. */
    rateLimitClients: 100_000,
    /** A cluster-wide rate check that Redis has not answered in this time is decided by the local bucket. */
    rateLimitRedisTimeoutMs: 20,
    /** A refusal stays a `wsha status` warning this long after the last one. */
    alertWindowMs: 60_000,
    /** At most this many refusal log lines per second per reason; the rest are counted in the next line. */
    refusalLogsPerSec: 10,
  }),
  // ---- end edge ----
});
