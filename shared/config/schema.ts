/**
 * The wsha config file schema (YAML). Every field has a TSDoc line; defaults
 * come from DEFAULTS. The reference in README.md is checked against this file
 * by test/unit/shared/config-reference.test.ts.
 */
import { z } from 'zod';
import { isIP } from 'node:net';
import { DEFAULTS } from './defaults';
import { AccessSchema, AdmissionSchema, AuthSchema, MessagesSchema, RateLimitSchema } from './edge-schema';

export { AccessSchema, AdmissionSchema, AuthSchema, MessagesSchema, RateLimitSchema, JwtSchema, JwksSchema, TokenFromSchema, ExternalAuthSchema, BucketSchema, RateScopeSchema } from './edge-schema';

const ms = (what = 'a duration in milliseconds') => z.number({ error: `expected ${what}` }).int({ error: `expected ${what}` }).nonnegative({ error: `expected ${what}` });
const positiveInt = (what: string) => z.number({ error: `expected ${what}` }).int({ error: `expected ${what}` }).positive({ error: `expected ${what}` });
const name = (what: string) => z.string({ error: `expected ${what}` }).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, { error: `expected ${what} (letters, digits, '.', '_' or '-', at most 63)` });
const hostPort = z.string({ error: 'expected HOST:PORT' }).regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:]+):\d{1,5}$/, { error: 'expected HOST:PORT, e.g. 127.0.0.1:9901' });
const ipAddress = z.string({ error: 'expected an IPv4 or IPv6 address' }).refine((s) => isIP(s) !== 0, { error: 'expected an IPv4 or IPv6 address' });

/** cluster.redis: how every node reaches Redis (one server or Sentinel). */
export const RedisSchema = z.strictObject({
  /** redis:// or rediss:// URL of a single server. @default redis://127.0.0.1:6379 */
  url: z.string().regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' }).default(DEFAULTS.redis.url),
  /** Sentinels to ask for the master; when set, `url` only supplies password/db. */
  sentinels: z.array(z.strictObject({
    /** Host name or address of one sentinel. */
    host: z.string().min(1, { error: 'expected a host name or address' }),
    /** Port of that sentinel (usually 26379). */
    port: positiveInt('a port number').max(65535),
  })).min(1, { error: 'expected at least one sentinel' }).optional(),
  /** Master group name known to the sentinels. @default mymaster */
  name: z.string().min(1).default(DEFAULTS.redis.sentinelName),
  /** ACL user name. */
  username: z.string().optional(),
  /** Password (or ACL password); may also come from WSHA_REDIS_PASSWORD. */
  password: z.string().optional(),
  /** Password of the sentinels themselves, if they require one. */
  sentinelPassword: z.string().optional(),
  /** Database index. @default 0 */
  db: z.number().int().min(0).max(15).default(0),
  /** TLS to Redis: CA, client cert and key files (PEM). */
  tls: z.strictObject({
    /** CA bundle (PEM) that signed the Redis server certificate. */
    ca: z.string().optional(),
    /** Client certificate (PEM) for mutual TLS. */
    cert: z.string().optional(),
    /** Client private key (PEM) for mutual TLS. */
    key: z.string().optional(),
    /** Verify the Redis server certificate. @default true */
    rejectUnauthorized: z.boolean().default(true),
  }).optional(),
  /** Timeout of one lease command; never queued while disconnected (a renewal counts from when it was sent). @default 1000 */
  leaseCommandTimeoutMs: ms().default(DEFAULTS.redis.leaseCommandTimeoutMs),
  /**
   * Whether a lease write counts only once a replica acknowledged it (`WAIT 1`): `auto` = once this node has seen
   * the master with a replica in sync (for as long as that master lives), `always`, or `never`. Keeps an owner cut
   * off with an old master from renewing there while Sentinel promotes the replica. @default auto
   */
  replicaAck: z.enum(['auto', 'always', 'never'], { error: 'expected auto, always or never' }).default(DEFAULTS.redis.replicaAck),
  /** Longest wait for that replica acknowledgement (a renewal not acknowledged by then does not count). @default 100 */
  replicaAckTimeoutMs: positiveInt('a duration in milliseconds').default(DEFAULTS.redis.replicaAckTimeoutMs),
  /** Connect timeout of every Redis connection; with Sentinel also the longest wait for a sentinel's answer before the next one is asked. @default 1000 */
  connectTimeoutMs: ms().default(DEFAULTS.redis.connectTimeoutMs),
  /** A cluster-wide rate-limit check (routes[].rateLimit.cluster) not answered in this time is decided by the node's own buckets. @default 20 */
  rateLimitTimeoutMs: positiveInt('a duration in milliseconds').default(DEFAULTS.edge.rateLimitRedisTimeoutMs),
});

/** cluster.heartbeat: membership heartbeats through Redis. */
export const HeartbeatSchema = z.strictObject({
  /** How often each node publishes its heartbeat. @default 200 */
  intervalMs: positiveInt('a duration in milliseconds').default(DEFAULTS.heartbeat.intervalMs),
  /** A node whose heartbeat is older than this (on Redis's clock) is seen as down. @default 1000 */
  timeoutMs: positiveInt('a duration in milliseconds').default(DEFAULTS.heartbeat.timeoutMs),
  /**
   * How long a node's last heartbeat is kept: `wsha status` lists a gone node as down that long, and a node that
   * joined while the owner was cut off from Redis waits that long before it takes an expired lease the owner never
   * offered it. @default 86400000
   */
  forgetAfterMs: positiveInt('a duration in milliseconds').default(DEFAULTS.heartbeat.forgetAfterMs),
});

/** cluster.lease: VIP ownership leases. */
export const LeaseSchema = z.strictObject({
  /** TTL of a lease in Redis. @default 200 */
  ttlMs: positiveInt('a duration in milliseconds').default(DEFAULTS.lease.ttlMs),
  /** How often the owner renews its lease. @default 40 */
  renewIntervalMs: positiveInt('a duration in milliseconds').default(DEFAULTS.lease.renewIntervalMs),
  /** The owner steps down this long before an unrenewed lease (or an unrefreshed grant) could expire. @default 40 */
  stepDownMarginMs: positiveInt('a duration in milliseconds').default(DEFAULTS.lease.stepDownMarginMs),
  /** How often a standby checks for a free lease. @default 50 */
  acquirePollMs: positiveInt('a duration in milliseconds').default(DEFAULTS.lease.acquirePollMs),
  /** Extra wait per priority rank below the best live candidate. @default 50 */
  rankDelayMs: ms().default(DEFAULTS.lease.rankDelayMs),
  /**
   * A standby whose owner's process is silent while the owner's host still answers (a stall: GC, a busy VM,
   * SIGSTOP) waits this long before it takes the VIP; the owner, resumed within it, keeps the VIP. @default 2000
   */
  stallBudgetMs: positiveInt('a duration in milliseconds').default(DEFAULTS.lease.stallBudgetMs),
});

/** cluster.peer: Timings and limits of the authenticated node-to-node link (the same on every node). */
export const PeerTimingsSchema = z.strictObject({
  /** Each node sends a beat to every peer this often; the owner's beats ask for peer grants. @default 40 */
  beatIntervalMs: positiveInt('a duration in milliseconds').default(DEFAULTS.peer.beatIntervalMs),
  /** How long a peer grant lasts: the granter does not acquire the VIP before it runs out. @default 200 */
  grantTtlMs: positiveInt('a duration in milliseconds').default(DEFAULTS.peer.grantTtlMs),
  /** Kernel probes (TCP connects to a quiet peer's port) are sent this often. @default 20 */
  probeIntervalMs: positiveInt('a duration in milliseconds').default(DEFAULTS.peer.probeIntervalMs),
  /** A kernel probe unanswered (no SYN-ACK, no reset) within this time is a miss. @default 40 */
  probeTimeoutMs: positiveInt('a duration in milliseconds').default(DEFAULTS.peer.probeTimeoutMs),
  /** Misses in a row, after the peer's process went quiet, that make its host silent. @default 3 */
  probeMisses: positiveInt('a count').default(DEFAULTS.peer.probeMisses),
  /** A connection that has not authenticated within this time is closed. @default 1000 */
  authTimeoutMs: positiveInt('a duration in milliseconds').default(DEFAULTS.peer.authTimeoutMs),
  /** Most peer-link connections a node accepts at once (authenticated or not). @default 64 */
  maxConnections: positiveInt('a count').default(DEFAULTS.peer.maxConnections),
});

/** cluster.health: how observations of all nodes merge into one verdict. */
export const HealthMergeSchema = z.strictObject({
  /** `any`: down when any fresh observer says down; `majority`: when most do; `all`: when all do. @default majority */
  verdict: z.enum(['any', 'majority', 'all'], { error: 'expected any, majority or all' }).default(DEFAULTS.health.verdict),
  /** An observation older than this many probe intervals is ignored. @default 3 */
  freshIntervals: positiveInt('a count').default(DEFAULTS.health.freshIntervals),
});

/** cluster.affinity: session affinity records. */
export const AffinitySchema = z.strictObject({
  /** TTL of a session-to-backend record, refreshed while the session is active. @default 1800000 */
  ttlMs: positiveInt('a duration in milliseconds').default(DEFAULTS.affinity.ttlMs),
  /** Longest a new connection waits for the affinity lookup in Redis before falling back to hashing. @default 50 */
  lookupTimeoutMs: positiveInt('a duration in milliseconds').default(DEFAULTS.affinity.lookupTimeoutMs),
});

/** cluster.handover: planned handover (`wsha failover`, `wsha drain`). */
export const HandoverSchema = z.strictObject({
  /** WebSocket clients closed with 1012 per second by the old owner. @default 1000 */
  closeRatePerSec: positiveInt('a rate per second').default(DEFAULTS.handover.closeRatePerSec),
  /** The 1012 closes are spread over this window. @default 2000 */
  closeWindowMs: ms().default(DEFAULTS.handover.closeWindowMs),
  /** Longest make-before-break overlap with both nodes listening. @default 1000 */
  maxOverlapMs: positiveInt('a duration in milliseconds').default(DEFAULTS.handover.maxOverlapMs),
  /** A handover not done in this time is abandoned. @default 10000 */
  timeoutMs: positiveInt('a duration in milliseconds').default(DEFAULTS.handover.timeoutMs),
});

/** cluster.history: the cluster event history (a capped Redis stream) and the connection samples of the live page. */
export const HistorySchema = z.strictObject({
  /** Most events the history stream keeps; the oldest go first. The same on every node. @default 50000 */
  maxCount: positiveInt('a count').min(100, { error: 'expected at least 100 events' }).default(DEFAULTS.history.maxCount),
  /** Events older than this are trimmed from the history stream. The same on every node. @default 604800000 */
  maxAgeMs: positiveInt('a duration in milliseconds').min(60_000, { error: 'expected at least 60000 (one minute)' }).default(DEFAULTS.history.maxAgeMs),
  /**
   * Events a node keeps in memory while it cannot reach Redis, written with their original times when Redis is back.
   * When full, the oldest are dropped: counted in `wsha_history_events_total{result="dropped"}` and recorded as one
   * `history-dropped` event with their number and time range. @default 1000
   */
  bufferCount: positiveInt('a count').default(DEFAULTS.history.bufferCount),
  /** How often each node samples its open connections for the live page's timeline; 0 is off. @default 10000 */
  sampleIntervalMs: ms().default(DEFAULTS.history.sampleIntervalMs),
  /** Most samples the samples stream keeps (all nodes together). @default 100000 */
  sampleMaxCount: positiveInt('a count').default(DEFAULTS.history.sampleMaxCount),
  /** Samples older than this are trimmed. @default 86400000 */
  sampleMaxAgeMs: positiveInt('a duration in milliseconds').min(60_000, { error: 'expected at least 60000 (one minute)' }).default(DEFAULTS.history.sampleMaxAgeMs),
});

/** cluster: what all nodes of one cluster share. */
export const ClusterSchema = z.strictObject({
  /** Cluster name; Redis keys live under `wsha:{NAME}:`. */
  name: name('a cluster name'),
  /**
   * File holding the cluster secret (at least 16 bytes, mode 0600) that authenticates the peer link; the
   * WSHA_CLUSTER_SECRET environment variable may carry the secret instead. Every node of a cluster has the same one.
   */
  secretFile: z.string().min(1, { error: 'expected a file path' }).optional(),
  /**
   * How VIPs go to nodes: `priority` (each VIP to its best-priority node) or `spread` (each ready node owns about
   * VIPs/nodes; a dead node's VIPs go to the least-loaded survivors). The same on every node. @default priority
   */
  vipPlacement: z.enum(['priority', 'spread'], { error: 'expected priority or spread' }).default(DEFAULTS.vip.placement),
  redis: RedisSchema.prefault({}),
  heartbeat: HeartbeatSchema.prefault({}),
  lease: LeaseSchema.prefault({}),
  health: HealthMergeSchema.prefault({}),
  affinity: AffinitySchema.prefault({}),
  handover: HandoverSchema.prefault({}),
  peer: PeerTimingsSchema.prefault({}),
  history: HistorySchema.prefault({}),
});

/** Most worker processes one node may run (`node.workers`). */
export const MAX_WORKERS = 256;

/** node: this proxy process. */
export const NodeSchema = z.strictObject({
  /** Unique node id within the cluster. */
  id: name('a node id'),
  /** Higher wins the VIP. @default 100 */
  priority: z.number({ error: 'expected an integer from 0 to 255' }).int().min(0).max(255).default(DEFAULTS.node.priority),
  /** This node's priority for single VIPs, by VIP name, where it differs from `priority` (like keepalived's per-instance priority). */
  vipPriorities: z.record(z.string(), z.number({ error: 'expected an integer from 0 to 255' }).int().min(0).max(255), { error: 'expected a map of VIP name to priority' }).optional(),
  /** Address other nodes and the CLI use to reach this node (defaults to the admin host). */
  address: z.string().optional(),
  /** Admin HTTP API. */
  admin: z.strictObject({
    /** HOST:PORT of the admin API. @default 127.0.0.1:9901 */
    listen: hostPort.default(DEFAULTS.admin.listen),
    /** Bearer token for everything but /healthz and /readyz; may come from WSHA_ADMIN_TOKEN. */
    token: z.string().min(8, { error: 'expected a token of at least 8 characters' }).optional(),
    /** Name of that token in the event history: who ran an admin action (drain, failover) through this API. @default admin */
    tokenName: name('a token name').default(DEFAULTS.admin.tokenName),
    // ---- access boundary (issue 10): token file and admin TLS ----
    /** Where a generated token is written (mode 0600) when no token is set; the log names this path, never the token. Default: wsha-CLUSTER-NODE.admin-token in $RUNTIME_DIRECTORY, $XDG_RUNTIME_DIR or the temp folder. */
    tokenFile: z.string().min(1, { error: 'expected a file path' }).optional(),
    /** TLS for the admin API (PEM files, re-read on SIGHUP); absent means plain HTTP. */
    tls: z.strictObject({
      /** Certificate chain file (PEM). */
      cert: z.string().min(1, { error: 'expected a file path' }),
      /** Private key file (PEM). */
      key: z.string().min(1, { error: 'expected a file path' }),
    }).optional(),
    // ---- end access boundary ----
  }).prefault({}),
  /** Node-to-node link that shows a dead peer at once. */
  peer: z.strictObject({
    /** HOST:PORT of the peer link; port 0 picks a free one. @default 127.0.0.1:0 */
    listen: hostPort.default(DEFAULTS.peer.listen),
    /**
     * HOST:PORT other nodes reach the peer link at, when it differs from `listen` (a wildcard listen address, NAT).
     * Defaults to `listen`, with `node.address` in place of a wildcard host.
     */
    advertise: hostPort.optional(),
    /** How long to wait for the refused connect that confirms a dead peer. @default 200 */
    confirmTimeoutMs: positiveInt('a duration in milliseconds').default(DEFAULTS.peer.confirmTimeoutMs),
  }).prefault({}),
  /**
   * Data-plane worker processes of this node: a count, or `auto` for one per
   * core this process may use (os.availableParallelism()). With more than
   * one, every listener binds with SO_REUSEPORT and the kernel spreads new
   * connections; `limits.maxConnections` is divided between the workers and
   * the per-client limits apply per worker. @default 1
   */
  workers: z.union([z.literal('auto'), z.number().int().min(1).max(MAX_WORKERS)], { error: `expected "auto" or an integer from 1 to ${MAX_WORKERS}` }).default(DEFAULTS.node.workers),
  /** SIGTERM drain. */
  drain: z.strictObject({
    /** WebSocket clients get close 1001 after this grace period. @default 5000 */
    graceMs: ms().default(DEFAULTS.drain.graceMs),
    /** Whatever is left is destroyed at this deadline. @default 30000 */
    deadlineMs: positiveInt('a duration in milliseconds').default(DEFAULTS.drain.deadlineMs),
  }).prefault({}),
});

/** vips[]: one virtual IP and how its address is moved. */
export const VipSchema = z.strictObject({
  /** VIP name, used by `on: vip:NAME`. */
  name: name('a VIP name'),
  /** `bind` (owner listens on the address), `linux` (ip addr + GARP/NA) or `exec` (operator scripts). */
  driver: z.enum(['bind', 'linux', 'exec'], { error: 'expected bind, linux or exec' }),
  /** The virtual IP address. */
  address: ipAddress,
  /** Prefix length for `linux`. @default 32 (IPv4) / 128 (IPv6) */
  prefix: z.number().int().min(1).max(128).optional(),
  /** Interface for `linux`, e.g. eth0. */
  interface: z.string().min(1).optional(),
  /** Whether a returning higher-priority node takes the VIP back. @default false */
  preempt: z.boolean().default(DEFAULTS.vip.preempt),
  /** Command run when this node takes the VIP (`exec`). */
  up: z.string().min(1).optional(),
  /** Command run when this node gives the VIP up (`exec`). */
  down: z.string().min(1).optional(),
  /** Timeout of an `exec` command. @default 5000 */
  execTimeoutMs: positiveInt('a duration in milliseconds').default(DEFAULTS.vip.execTimeoutMs),
  /** Gratuitous ARP / unsolicited NA repetitions after takeover (`linux`). @default 3 */
  garpCount: z.number().int().min(0).max(20).default(DEFAULTS.vip.garpCount),
  /** Spacing of those repetitions. @default 200 */
  garpIntervalMs: positiveInt('a duration in milliseconds').default(DEFAULTS.vip.garpIntervalMs),
  // ---- access boundary (issue 10): scrubbed environment of exec commands ----
  /** Names of variables in wsha's own environment passed on to `exec` commands; besides these they get only PATH and the WSHA_* variables. */
  passEnv: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' }), { error: 'expected a list of environment variable names' }).optional(),
  // ---- end access boundary ----
});

/** listeners[].tls.certs[]: one certificate (PEM files). */
export const CertSchema = z.strictObject({
  /** Certificate chain file (PEM). */
  cert: z.string().min(1, { error: 'expected a file path' }),
  /** Private key file (PEM). */
  key: z.string().min(1, { error: 'expected a file path' }),
  /** SNI names served by this certificate; by default read from its SANs and CN. */
  serverNames: z.array(z.string().min(1)).optional(),
});

/** listeners[]: where clients connect. */
export const ListenerSchema = z.strictObject({
  /** Listener name (metrics, logs). */
  name: name('a listener name'),
  /** `vip:NAME` (serves only while this node owns that VIP) or a plain address. */
  on: z.string({ error: 'expected vip:NAME or an IP address' }).refine((s) => s.startsWith('vip:') || isIP(s) !== 0, { error: 'expected vip:NAME or an IP address' }),
  /** TCP port. */
  port: z.number({ error: 'expected a port from 0 to 65535' }).int().min(0).max(65535),
  /** TLS termination; absent means plain HTTP/ws. */
  tls: z.strictObject({
    /** Generate a self-signed certificate at start (development). @default false */
    selfSigned: z.boolean().default(false),
    /** Certificates, chosen by SNI; the first is the default. */
    certs: z.array(CertSchema).optional(),
  }).optional(),
  /** Require a PROXY protocol v1/v2 header on every connection. @default false */
  proxyProtocol: z.boolean().default(false),
});

/** routes[]: host and path prefix to pool. */
export const RouteSchema = z.strictObject({
  /** Host to match: exact, `*.example.com` or `*`. @default * */
  host: z.string().min(1).default('*'),
  /** Path prefix. @default / */
  path: z.string().startsWith('/', { error: "expected a path starting with '/'" }).default('/'),
  /** Pool name. */
  pool: z.string().min(1),
  // ---- access boundary (issue 10): per-route path rule and timeouts ----
  /** Accept `%2F` in paths of this route (kept encoded, never a separator); otherwise such a path gets 400. @default false */
  allowEncodedSlashes: z.boolean().default(DEFAULTS.access.allowEncodedSlashes),
  /** Longest wait for the backend's response head (HTTP response or the 101) once the request is sent; 504 after. Falls back to limits.responseHeadTimeoutMs. */
  responseHeadTimeoutMs: positiveInt('a duration in milliseconds').optional(),
  /** Close this route's WebSocket tunnels idle this long; 0 is off. Falls back to limits.idleTimeoutMs. */
  idleTimeoutMs: ms().optional(),
  // ---- end access boundary ----
  // ---- edge (issue 12) ----
  /** Route name in logs, metrics (`route` label) and `wsha status`. Default: HOST followed by PATH, e.g. `app.example.com/chat`. */
  name: name('a route name').optional(),
  access: AccessSchema.optional(),
  auth: AuthSchema.optional(),
  rateLimit: RateLimitSchema.optional(),
  messages: MessagesSchema.optional(),
  // ---- end edge ----
});

/** pools.NAME.healthCheck: active checks. */
export const HealthCheckSchema = z.strictObject({
  /** `http` (GET path), `tcp` (connect) or `ws` (WebSocket handshake). @default tcp */
  type: z.enum(['http', 'tcp', 'ws'], { error: 'expected http, tcp or ws' }).default(DEFAULTS.health.type),
  /** Path for `http` and `ws`. @default / */
  path: z.string().startsWith('/').default(DEFAULTS.health.path),
  /** Accepted status range for `http`, e.g. 200-399. @default 200-399 */
  expectStatus: z.string().regex(/^\d{3}(-\d{3})?$/, { error: 'expected a status or range such as 200-399' }).default(DEFAULTS.health.expectStatus),
  /** Time between two checks of one backend by one node. @default 2000 */
  intervalMs: positiveInt('a duration in milliseconds').default(DEFAULTS.health.intervalMs),
  /** A check not answered in this time fails. @default 1000 */
  timeoutMs: positiveInt('a duration in milliseconds').default(DEFAULTS.health.timeoutMs),
  /** Good checks in a row to come back up. @default 2 */
  rise: positiveInt('a count').default(DEFAULTS.health.riseCount),
  /** Bad checks in a row to go down. @default 3 */
  fall: positiveInt('a count').default(DEFAULTS.health.fallCount),
  /** Failed connects/handshakes from live traffic that mark a backend down. @default 3 */
  passiveFail: positiveInt('a count').default(DEFAULTS.health.passiveFailCount),
});

/** pools.NAME.backends[]: one backend server. */
export const BackendSchema = z.strictObject({
  /** Backend id, unique in its pool. */
  id: name('a backend id'),
  /** http(s):// or ws(s):// URL of the backend. */
  url: z.string({ error: 'expected an http(s) or ws(s) URL' }).refine((s) => { try { return /^(https?|wss?):$/.test(new URL(s).protocol); } catch { return false; } }, { error: 'expected an http(s) or ws(s) URL' }),
  /** Relative weight for round-robin. @default 1 */
  weight: z.number().int().min(0).max(1000).default(1),
});

/** pools.NAME: a backend pool. */
export const PoolSchema = z.strictObject({
  /** `round-robin`, `least-conn` or `sticky`. @default round-robin */
  balance: z.enum(['round-robin', 'least-conn', 'sticky'], { error: 'expected round-robin, least-conn or sticky' }).default('round-robin'),
  /** Session key for `sticky`: one of cookie, header or query; falls back to the client address. */
  sticky: z.strictObject({
    /** Cookie whose value is the session key. */
    cookie: z.string().min(1).optional(),
    /** Request header whose value is the session key. */
    header: z.string().min(1).optional(),
    /** Query parameter whose value is the session key. */
    query: z.string().min(1).optional(),
    /** Set the cookie on the 101/response when the client has none. @default false */
    setCookie: z.boolean().default(false),
  }).optional(),
  /** Send a PROXY protocol header to backends: false, v1 or v2. @default false */
  proxyProtocol: z.union([z.literal(false), z.literal('v1'), z.literal('v2')], { error: 'expected false, v1 or v2' }).default(false),
  /** Backends of this pool. */
  backends: z.array(BackendSchema, { error: 'expected a list of backends' }).min(1, { error: 'expected at least one backend' }),
  healthCheck: HealthCheckSchema.prefault({}),
  /** What happens to open tunnels when their backend goes down: keep, or close with 1012. @default keep */
  onBackendDown: z.enum(['keep', 'close'], { error: 'expected keep or close' }).default('keep'),
  /** A backend that comes back ramps its share over this time; 0 is off. @default 0 */
  slowStartMs: ms().default(0),
  // ---- access boundary (issue 10): TLS to https:// and wss:// backends ----
  /** TLS to this pool's https:// and wss:// backends and their health checks; certificates are verified unless verify is false. */
  tls: z.strictObject({
    /** CA bundle (PEM file) that signed the backend certificates; default: the system CAs. */
    ca: z.string().min(1, { error: 'expected a file path' }).optional(),
    /** Name checked against the backend certificate and sent as SNI; default: the host of the backend URL. */
    servername: z.string().min(1).optional(),
    /** Verify the backend certificate chain and name. @default true */
    verify: z.boolean().default(DEFAULTS.access.backendTlsVerify),
  }).optional(),
  // ---- end access boundary ----
  admission: AdmissionSchema.optional(),
});

/** The kernel's largest TCP_KEEPIDLE (32767 s), with the jitter a socket may add (tcp-keepalive.ts) on top. */
const MAX_KEEPALIVE_MS = 26_000_000;
const KEEPALIVE_ERROR = `expected 0 (off) or a duration in milliseconds from 1000 to ${MAX_KEEPALIVE_MS}`;

/** limits: per node. */
export const LimitsSchema = z.strictObject({
  /** Time for a client to send its whole request head (slowloris); 408 after. @default 10000 */
  handshakeTimeoutMs: positiveInt('a duration in milliseconds').default(DEFAULTS.limits.handshakeTimeoutMs),
  /** Largest request head; 431 above. @default 16384 */
  maxHeaderBytes: positiveInt('a size in bytes').default(DEFAULTS.limits.maxHeaderBytes),
  /** Concurrent client connections per node; 503 above. @default 10000 */
  maxConnections: positiveInt('a count').default(DEFAULTS.limits.maxConnections),
  /** Concurrent connections per client address; 429 above, each refusal logged with the address. 0 is off (behind an L4 balancer without PROXY protocol every client shares one address). @default 0 */
  maxConnectionsPerClient: z.number({ error: 'expected a count (0 is off)' }).int({ error: 'expected a count (0 is off)' }).nonnegative({ error: 'expected a count (0 is off)' }).default(DEFAULTS.limits.maxConnectionsPerClient),
  /** Close WebSocket tunnels idle this long; 0 is off. @default 0 */
  idleTimeoutMs: ms().default(DEFAULTS.limits.idleTimeoutMs),
  /** Connect timeout to a backend; 503 after. @default 5000 */
  backendConnectTimeoutMs: positiveInt('a duration in milliseconds').default(DEFAULTS.limits.backendConnectTimeoutMs),
  /** Longest an ordinary HTTP request may take; 504 after. @default 60000 */
  requestTimeoutMs: positiveInt('a duration in milliseconds').default(DEFAULTS.limits.requestTimeoutMs),
  /** TCP keepalive on client and backend sockets after this long idle (plus up to a quarter more per socket, so that sockets opened together probe apart); a peer gone without a FIN is closed after 10 unanswered probes a second apart. 0 is off. @default 7200000 */
  tcpKeepAliveMs: z.number({ error: KEEPALIVE_ERROR }).int({ error: KEEPALIVE_ERROR })
    .refine((v) => v === 0 || (v >= 1000 && v <= MAX_KEEPALIVE_MS), { error: KEEPALIVE_ERROR })
    .default(DEFAULTS.limits.tcpKeepAliveMs),
  // ---- access boundary (issue 10) ----
  /** Longest wait for a backend's response head once the request is sent; 504 after. Unset: HTTP requests are bounded by requestTimeoutMs, upgrades by backendConnectTimeoutMs. */
  responseHeadTimeoutMs: positiveInt('a duration in milliseconds').optional(),
  // ---- end access boundary ----
});

/** logging: log output of the node (JSON lines; pretty in a terminal). */
export const LoggingSchema = z.strictObject({
  /** pino level. @default info */
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'expected fatal, error, warn, info, debug, trace or silent' }).default(DEFAULTS.logging.level),
});

/** The whole file. */
export const ConfigSchema = z.strictObject({
  cluster: ClusterSchema,
  node: NodeSchema,
  vips: z.array(VipSchema).default([]),
  listeners: z.array(ListenerSchema).min(1, { error: 'expected at least one listener' }),
  routes: z.array(RouteSchema).min(1, { error: 'expected at least one route' }),
  pools: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, { error: 'expected a pool name' }), PoolSchema),
  limits: LimitsSchema.prefault({}),
  logging: LoggingSchema.prefault({}),
});

export type Config = z.output<typeof ConfigSchema>;
export type VipConfig = Config['vips'][number];
export type ListenerConfig = Config['listeners'][number];
export type RouteConfig = Config['routes'][number];
export type PoolConfig = Config['pools'][string];
export type BackendConfig = PoolConfig['backends'][number];
export type HealthCheckConfig = PoolConfig['healthCheck'];
export type LimitsConfig = Config['limits'];
export type RedisConfig = Config['cluster']['redis'];
export type ClusterConfig = Config['cluster'];
export type NodeConfig = Config['node'];
export type HistoryConfig = Config['cluster']['history'];
