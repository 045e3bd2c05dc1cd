/**
 * Every Prometheus metric of a node, defined in one place, on a registry of
 * its own (no global default registry). Hot-path counts are plain integer
 * fields on their owners; `addCollector` lets each owner copy them into the
 * gauges and counters below only when /metrics is scraped.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Sampling period of the event-loop delay histogram (prom-client's default
 * is 10 ms): its timer wakes every process of a node that often, idle or
 * not, 100 times a second in each of a node's workers at the default.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

export class Metrics {
  readonly registry = new Registry();
  #collectors: Array<{ fn: () => void; feeds: ReadonlySet<string> | null }> = [];
  #defaultLabels: Record<string, string> = {};

  /** Open client connections (WebSocket tunnels and HTTP sockets). */
  readonly connectionsOpen = new Gauge({ name: 'wsha_connections_open', help: 'Open WebSocket tunnels by listener, pool and backend', labelNames: ['listener', 'pool', 'backend'] as const, registers: [this.registry] });
  /** Tunnels ever opened. */
  readonly connectionsTotal = new Counter({ name: 'wsha_connections_total', help: 'WebSocket tunnels opened by listener, pool and backend', labelNames: ['listener', 'pool', 'backend'] as const, registers: [this.registry] });
  /** HTTP requests proxied. */
  readonly httpRequestsTotal = new Counter({ name: 'wsha_http_requests_total', help: 'Plain HTTP requests proxied by pool and status class', labelNames: ['pool', 'status'] as const, registers: [this.registry] });
  /** Handshakes that did not end in a tunnel. */
  readonly handshakeFailuresTotal = new Counter({ name: 'wsha_handshake_failures_total', help: 'Failed client handshakes or requests by reason', labelNames: ['reason'] as const, registers: [this.registry] });
  /** Bytes relayed client->backend (in) and backend->client (out). */
  readonly bytesTotal = new Counter({ name: 'wsha_bytes_total', help: 'Bytes relayed through tunnels by direction', labelNames: ['direction'] as const, registers: [this.registry] });
  /** 1 when the merged verdict says up. */
  readonly backendUp = new Gauge({ name: 'wsha_backend_up', help: 'Merged health verdict of a backend (1 up, 0 down)', labelNames: ['pool', 'backend'] as const, registers: [this.registry] });
  readonly backendVerdictChangesTotal = new Counter({ name: 'wsha_backend_verdict_changes_total', help: 'Changes of merged backend verdicts', labelNames: ['pool', 'backend', 'verdict'] as const, registers: [this.registry] });
  readonly healthCheckSeconds = new Histogram({ name: 'wsha_health_check_seconds', help: 'Latency of active health checks', labelNames: ['pool', 'backend', 'result'] as const, buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2], registers: [this.registry] });
  /** 1 while this node owns the VIP. */
  readonly vipOwner = new Gauge({ name: 'wsha_vip_owner', help: 'Whether this node owns the VIP (1) or not (0)', labelNames: ['vip'] as const, registers: [this.registry] });
  readonly vipEpoch = new Gauge({ name: 'wsha_vip_epoch', help: 'Fencing epoch of the VIP as last seen by this node', labelNames: ['vip'] as const, registers: [this.registry] });
  readonly ownershipChangesTotal = new Counter({ name: 'wsha_ownership_changes_total', help: 'VIP ownership changes seen by this node, by reason', labelNames: ['vip', 'reason'] as const, registers: [this.registry] });
  readonly peerHeartbeatAgeSeconds = new Gauge({ name: 'wsha_peer_heartbeat_age_seconds', help: 'Age of the last heartbeat of each peer', labelNames: ['peer'] as const, registers: [this.registry] });
  readonly redisRoundTripSeconds = new Histogram({ name: 'wsha_redis_round_trip_seconds', help: 'Redis round-trip time by purpose', labelNames: ['purpose'] as const, buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5], registers: [this.registry] });
  readonly redisErrorsTotal = new Counter({ name: 'wsha_redis_errors_total', help: 'Redis errors by purpose', labelNames: ['purpose'] as const, registers: [this.registry] });
  /** Peer-link connections refused before or at authentication, by reason. */
  readonly peerAuthFailuresTotal = new Counter({ name: 'wsha_peer_auth_failures_total', help: 'Peer-link connections closed unauthenticated, by reason', labelNames: ['reason'] as const, registers: [this.registry] });
  /** Open inbound peer-link connections (authenticated or not). */
  readonly peerConnections = new Gauge({ name: 'wsha_peer_connections', help: 'Open inbound peer-link connections', registers: [this.registry] });
  /** 1 while this node's own authenticated link to the peer is up. */
  readonly peerLinkUp = new Gauge({ name: 'wsha_peer_link_up', help: 'Whether the authenticated link to a peer is up (1) or not (0)', labelNames: ['peer'] as const, registers: [this.registry] });
  /** 1 once this node found its loopback peer address unusable (other nodes on other hosts) while serving a VIP, and so kept running. */
  readonly peerAddressUnusable = new Gauge({ name: 'wsha_peer_address_unusable', help: 'Whether this node serves with a peer link address the other nodes cannot reach (1) or not (0)', registers: [this.registry] });
  /** Grant answers given to owners that asked, by result. */
  readonly peerGrantsTotal = new Counter({ name: 'wsha_peer_grants_total', help: 'Peer grants given (granted) or refused, by VIP', labelNames: ['vip', 'result'] as const, registers: [this.registry] });
  /** Kernel probes of quiet peers, by result (answered, refused, missed). */
  readonly kernelProbesTotal = new Counter({ name: 'wsha_peer_kernel_probes_total', help: 'TCP connect probes of a quiet peer host, by result', labelNames: ['peer', 'result'] as const, registers: [this.registry] });
  /** What the owner holds each VIP on right now: redis, peers or both (1 for the current source). */
  readonly vipAuthority = new Gauge({ name: 'wsha_vip_authority', help: 'What the owner holds the VIP on (1 for the current source: redis, peers, both)', labelNames: ['vip', 'source'] as const, registers: [this.registry] });
  /** 1 while the node is draining (maintenance or SIGTERM). */
  readonly draining = new Gauge({ name: 'wsha_draining', help: 'Whether this node is draining (1) or not (0)', registers: [this.registry] });
  /** Requests and handshakes refused at the edge (issue 12: address, origin, token, auth service, rate limits, admission, per-client cap). */
  readonly accessDeniedTotal = new Counter({ name: 'wsha_access_denied_total', help: 'Requests and WebSocket handshakes refused by route access, auth, rate limits or admission, by route and reason', labelNames: ['route', 'reason'] as const, registers: [this.registry] });
  /** Open tunnels closed by policy (token expired, message rate, message size). */
  readonly policyClosesTotal = new Counter({ name: 'wsha_tunnel_policy_closes_total', help: 'WebSocket tunnels closed by policy (token-expired, message-rate, message-size), by route and reason', labelNames: ['route', 'reason'] as const, registers: [this.registry] });
  /** Events this node handed to the cluster history, by result: written, duplicate (a retry Redis already had), unchanged (recorded once by another node), dropped (buffer full), stale (older than the stream keeps). */
  readonly historyEventsTotal = new Counter({ name: 'wsha_history_events_total', help: 'Cluster history events of this node by result (written, duplicate, unchanged, dropped, stale)', labelNames: ['result'] as const, registers: [this.registry] });
  /** Events waiting in memory for Redis. */
  readonly historyBuffered = new Gauge({ name: 'wsha_history_buffered', help: 'Cluster history events buffered in memory until Redis answers', registers: [this.registry] });
  readonly sessionsTotal = new Counter({ name: 'wsha_session_moves_total', help: 'Sticky sessions moved to another backend because theirs was down', labelNames: ['pool'] as const, registers: [this.registry] });

  constructor(opts: { nodeId?: string; defaultMetrics?: boolean } = {}) {
    if (opts.nodeId) { this.#defaultLabels = { node: opts.nodeId }; this.registry.setDefaultLabels(this.#defaultLabels); }
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'wsha_process_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  /**
   * Registers a function run before each scrape to copy hot-path counts in.
   * With `feeds` (the metric names it sets), a read of named metrics only
   * (`json(names)`) runs it only when it feeds one of them: a collector that
   * walks every tunnel stays out of reads that do not need it.
   */
  addCollector(fn: () => void, feeds?: readonly string[]): void { this.#collectors.push({ fn, feeds: feeds ? new Set(feeds) : null }); }

  /** Worker processes of the node that are running. */
  readonly workersRunning = new Gauge({ name: 'wsha_workers_running', help: 'Data-plane worker processes running', registers: [this.registry], aggregator: 'sum' });
  /** Worker processes that died and were restarted. */
  readonly workerRestartsTotal = new Counter({ name: 'wsha_worker_restarts_total', help: 'Data-plane worker processes restarted after they died, by slot', labelNames: ['worker'] as const, registers: [this.registry] });

  /**
   * The registry's metrics as prom-client JSON (collectors run first), for
   * summing over the processes of a node. With `names`, only those metrics,
   * in that order (unknown names left out), and only the collectors they
   * need: the default process metrics and collectors that feed other metrics
   * are not run. The refusal window reads two counters this way once a
   * minute; a full read costs per open socket (active handles, open fds,
   * the walk over the tunnels for `wsha_connections_open`).
   */
  async json(names?: readonly string[]): Promise<unknown[]> {
    if (!names) {
      for (const c of this.#collectors) c.fn();
      return this.registry.getMetricsAsJSON();
    }
    for (const c of this.#collectors) if (c.feeds === null || names.some((n) => c.feeds!.has(n))) c.fn();
    const out: unknown[] = [];
    const defaults = Object.entries(this.#defaultLabels);
    for (const name of names) {
      const metric = this.registry.getSingleMetric(name);
      if (!metric) continue;
      const item = await metric.get();
      // As getMetricsAsJSON does: every sample carries the registry's default labels.
      if (defaults.length) item.values = item.values.map((v) => ({ ...v, labels: { ...Object.fromEntries(defaults), ...v.labels } }));
      out.push(item);
    }
    return out;
  }

  /** Prometheus text exposition. */
  async text(): Promise<string> {
    for (const c of this.#collectors) c.fn();
    return this.registry.metrics();
  }

  get contentType(): string { return this.registry.contentType; }
}
