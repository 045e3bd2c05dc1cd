/**
 * The control plane of one node: composes the Redis connections (lease,
 * state, subscriber; each named with the node's incarnation, which is how
 * peers prove this process dead), the heartbeat and membership view, the
 * authenticated peer link (peer-layer.ts), the VIP guard, the readiness
 * gate, the command bus and one VipMachine per VIP, and drives the node's
 * VipHost. The composition root creates it and calls `start(host)`;
 * `stop()` hands the VIPs back before the process exits.
 */
import type Redis from 'ioredis';
import { writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../shared/config/schema';
import { DEFAULTS } from '../shared/config/defaults';
import type { Metrics } from '../shared/metrics';
import { systemClock, type Clock } from '../shared/clock';
import { connectionName, createRedis } from '../shared/redis/connect';
import { RedisKeys } from '../shared/redis/keys';
import { HandoverError, NotFoundError } from '../shared/errors';
import type { HeartbeatRecord, ClusterEvent, EdgeSummary, WorkerSummary } from '../shared/records';
import type { VipHost } from '../shared/ports/vip-host';
import { Heartbeat } from './membership/heartbeat';
import { toNodeFacts, type Member } from './membership/members';
import { candidatesFor, type NodeFacts } from './vip/placement';
import { Readiness } from './membership/readiness';
import { freshNonce } from './peer/peer-auth';
import { loadClusterSecret } from './peer/peer-secret';
import { PeerLayer } from './peer/peer-layer';
import { advertisedPeerAddress, checkAdvertisedReachable } from './peer/peer-address';
import { ReachabilityCheck } from './peer/reachability-check';
import { leaseConnectionPresence } from './peer/death-proof';
import { CommandBus, type CommandRequest } from './control/command-bus';
import { failover, type FailoverResult } from './control/failover';
import { drain, undrain } from './control/drain';
import { planHandover } from './control/preflight';
import { LeaseClient } from './vip/lease';
import { VipMachine } from './vip/vip-machine';
import type { VipSnapshot } from './vip/vip-deps';
import type { OwnershipTimings, VipState } from './vip/ownership';
import type { TransitionEvent } from '../shared/state-machine';
import { VipGuard } from './vip/guard/vip-guard';
import { ReplicaWatch } from './vip/replica-watch';
import { createDriver, type DriverTools } from './vip/drivers/create-driver';
import { runCommand } from './vip/drivers/commands';
import type { Candidate } from './vip/preemption';
import { RedisLink } from './redis-link';
import { PeerReturnWatch } from './vip/drivers/reannounce';
import type { Actor } from '../shared/history-event';
import type { HistoryPort } from './events/history-port';
import { AgentHistory } from './events/agent-history';

/** What the agent may be given beyond the config. */
export interface ClusterAgentOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  clock?: Clock;
  /** The shared state (health, affinity, counts); the readiness gate waits for its ready(). */
  sharedState?: { ready(): Promise<void> };
  /** Backends this node sees down, as `pool/backend` (shown in heartbeats, used by the handover pre-flight). */
  backendsDown?: () => string[];
  /** Open client connections (shown in heartbeats). */
  connections?: () => number;
  /** The data-plane worker processes (shown in heartbeats and `wsha status`). */
  workers?: () => WorkerSummary[];
  /** Edge refusals and alerts of the data plane (shown in heartbeats and `wsha status`). */
  edge?: () => EdgeSummary;
  /** HOST:PORT the admin API really listens on (node.admin.listen may say port 0). */
  adminAddress?: () => string;
  version?: string;
  /** Environment (the cluster secret may come from WSHA_CLUSTER_SECRET). */
  env?: NodeJS.ProcessEnv;
  /** Called when the node must not go on (a config it finds wrong only once Redis answers); the node exits. */
  onFatal?: (err: Error) => void;
  /** Run the VIP guard process (off only in tests of the machine alone). @default true */
  guard?: boolean;
  /** Where the agent records cluster events (cluster/events/history-recorder.ts); none: nothing is recorded. */
  history?: HistoryPort;
}

/** What the agent shows of itself (peer `state` line, admin API, tests' sampler). */
export interface AgentSnapshot {
  node: string;
  pid: number;
  incarnation: string;
  ready: boolean;
  readyProblem: string | null;
  /** The peer address is unusable (loopback, other nodes on other hosts) but the node serves a VIP and stays up; null otherwise. */
  peerProblem: string | null;
  drained: boolean;
  redis: string;
  peer: string;
  /** Peers with a live authenticated link, and the peers an owner counts on for grants. */
  peersLinked: string[];
  peersRequired: string[];
  /** High-resolution wall ms when this snapshot was taken. */
  at: number;
  vips: VipSnapshot[];
}

/** Linux: let connections queued on a closing SO_REUSEPORT listener move to a sibling (planned handover). */
const MIGRATE_REQ_SYSCTL = '/proc/sys/net/ipv4/tcp_migrate_req';

/** The ownership timings of a config. */
export function ownershipTimings(c: Config): OwnershipTimings {
  const { lease, peer, heartbeat } = c.cluster;
  return { ...lease, guardLeadMs: DEFAULTS.lease.guardLeadMs, grantTtlMs: peer.grantTtlMs, beatIntervalMs: peer.beatIntervalMs, forgetAfterMs: heartbeat.forgetAfterMs };
}

/** The control plane of one node (see the file comment). */
export class ClusterAgent {
  readonly keys: RedisKeys;
  readonly readiness = new Readiness();
  /** Random id of this process: peers and Redis know this incarnation by it. */
  readonly incarnation = freshNonce();
  readonly #o: ClusterAgentOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #startedAt = Date.now();
  readonly #machines = new Map<string, VipMachine>();
  readonly #link: RedisLink;
  #redis: { lease: Redis; state: Redis; sub: Redis } | undefined;
  #heartbeat: Heartbeat | undefined;
  #peers: PeerLayer | undefined;
  #guard: VipGuard | undefined;
  #replicas: ReplicaWatch | undefined;
  #advertised = '';
  #bus: CommandBus | undefined;
  #members: NodeFacts[] = [];
  #memberView = new Map<string, Member>();
  #returns: PeerReturnWatch;
  #drained = false;
  /** The drained set has been read once: until then this node must not acquire (it may be drained). */
  #membersRead = false;
  readonly #reachability: ReachabilityCheck;
  #stopping = false;
  #leaseOkAtMs = -Infinity;
  /** Peers listed in the heartbeat being written now. */
  #recordPeers: string[] = [];
  readonly #history: AgentHistory | undefined;
  #host: VipHost | undefined;
  /** Monotonic ms of the last membership read (heartbeat ages are relative to it). */
  #membersAtMs = -Infinity;

  constructor(o: ClusterAgentOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#log = o.logger.child({ component: 'cluster' });
    this.keys = new RedisKeys(o.config.cluster.name);
    this.#returns = new PeerReturnWatch(o.config.node.id);
    this.#link = new RedisLink(o.config.cluster.lease.ttlMs, this.#clock, this.#log, o.metrics);
    this.#reachability = this.#buildReachability();
    if (o.history) {
      this.#history = new AgentHistory({ port: o.history, nodeId: o.config.node.id, clock: this.#clock, lastSignMs: (id) => this.#lastSignMs(id) });
      this.#link.sm.onTransition((e) => this.#history!.redisLink(e));
    }
  }

  get drained(): boolean { return this.#drained; }
  get ready(): boolean { return this.readiness.ready; }
  /** HOST:PORT peers dial this node at. */
  get peerAddress(): string { return this.#advertised; }

  /**
   * Starts everything; VIPs are acquired once the readiness gate opens.
   * Throws ConfigError (before anything is served on a VIP) for a missing
   * cluster secret or a peer address that cannot be advertised.
   */
  async start(host: VipHost): Promise<void> {
    const { config } = this.#o;
    this.#history?.joined({ version: this.#o.version ?? '0', incarnation: this.incarnation, address: config.node.address ?? config.node.admin.listen.replace(/:\d+$/, '') });
    const secret = loadClusterSecret(config.cluster.secretFile, this.#o.env ?? process.env);
    this.#log.info({ secret: secret.source, incarnation: this.incarnation }, 'cluster secret loaded');
    const rc = config.cluster.redis;
    const name = (purpose: string) => connectionName(config.cluster.name, config.node.id, this.incarnation, purpose);
    const revived = (purpose: string) => (attempt: number) => this.#log.warn({ purpose, attempt }, 'redis client was ended by ioredis during a reconnect; connecting it again');
    const redis = {
      lease: createRedis(rc, 'lease', name('lease'), revived('lease')),
      state: createRedis(rc, 'state', name('state'), revived('state')),
      sub: createRedis(rc, 'subscriber', name('subscriber'), revived('subscriber')),
    };
    this.#redis = redis;
    for (const [purpose, r] of Object.entries(redis)) r.on('error', (err: Error) => this.#log.debug({ purpose, err: err.message }, 'redis connection error'));
    await Promise.all(Object.values(redis).map((r) => r.connect().catch((err: Error) => this.#log.warn({ err: err.message }, 'redis not reachable yet; retrying'))));

    this.#peers = this.#buildPeers(secret.secret);
    await this.#peers.server.listen(config.node.peer.listen);
    this.#advertised = advertisedPeerAddress(this.#peers.server.address, { advertise: config.node.peer.advertise, nodeAddress: config.node.address, listen: config.node.peer.listen });
    this.#log.info({ peer: this.#peers.server.address, advertised: this.#advertised }, 'peer link listening');
    if (this.#o.guard !== false) {
      this.#guard = new VipGuard({ logger: this.#o.logger, peerFd: this.#peers.server.fd });
      this.#guard.onFired((vip) => this.#machines.get(vip)?.guardFired());
      await this.#guard.start();
    }
    enableMigrateReq(this.#log);

    const timings = ownershipTimings(config);
    const quietMs = Math.max(timings.ttlMs, timings.grantTtlMs);
    // Registered after the first connect: every 'ready' from here on is a reconnect.
    redis.lease.on('ready', () => {
      this.#log.warn({ quietMs }, 'lease connection re-established: no acquisition of a free lease for one lease TTL');
      for (const m of this.#machines.values()) m.quietFor(quietMs);
    });
    this.#replicas = new ReplicaWatch(redis.lease, rc.replicaAck, this.#log);
    this.#replicas.start();
    const replicas = this.#replicas;
    const lease = new LeaseClient(redis.lease, this.keys, { required: () => replicas.required(), timeoutMs: rc.replicaAckTimeoutMs });
    this.#host = host;
    const vipHost = this.#history ? this.#history.wrapHost(host, (v) => this.#machines.get(v)?.snapshot()) : host;
    for (const vip of config.vips) this.#machines.set(vip.name, this.#buildMachine(vip, lease, vipHost, timings));

    this.#bus = new CommandBus(redis.state, redis.sub, this.keys, config.node.id, (req) => this.#handle(req));
    redis.sub.on('message', (channel: string, message: string) => { if (channel === this.keys.events()) this.#onEvent(message); });
    // Not awaited: with Redis down the subscriber queues these until it connects, and start() must not wait for Redis.
    Promise.all([this.#bus.start(), redis.sub.subscribe(this.keys.events())]).catch((err: Error) => this.#log.warn({ err: err.message }, 'subscribe failed; ioredis resubscribes on reconnect'));

    this.#heartbeat = new Heartbeat({
      redis: redis.state, keys: this.keys, intervalMs: config.cluster.heartbeat.intervalMs, timeoutMs: config.cluster.heartbeat.timeoutMs,
      keepMs: config.cluster.heartbeat.forgetAfterMs,
      record: () => this.#record(), onMembers: (m) => this.#onMembers(m), onRedis: (ok, err) => this.#link.report('state', ok, err), logger: this.#log,
    });
    this.readiness.onChange(() => { this.#log.info({ ready: this.ready }, 'readiness changed'); void this.#heartbeat?.beatNow(); });
    this.#heartbeat.start();
    this.#peers.start();
    void this.#gate();
    for (const m of this.#machines.values()) { void m.d.driver.cleanup(m.ctx()).catch(() => {}); m.start(); }
  }

  #buildPeers(secret: Buffer): PeerLayer {
    const { config, metrics } = this.#o;
    const p = config.cluster.peer;
    return new PeerLayer({
      cluster: config.cluster.name, self: { node: config.node.id, inc: this.incarnation }, secret, clock: this.#clock, logger: this.#o.logger, metrics,
      timings: { ...p, confirmTimeoutMs: config.node.peer.confirmTimeoutMs, confirmWindowMs: DEFAULTS.peer.confirmWindowMs, maxLineBytes: DEFAULTS.peer.maxLineBytes },
      handlers: {
        beat: () => ({
          redis: this.#leaseOk(),
          vips: [...this.#machines.values()].map((m) => m.claim()),
          ask: [...this.#machines.values()].filter((m) => m.askEpoch() !== null).map((m) => m.name),
        }),
        grant: (vip, from, epoch, ownerReachesRedis, arrivedMs) => {
          const m = this.#machines.get(vip);
          return m ? m.grant(from, epoch, ownerReachesRedis, arrivedMs) : { vip, epoch, ok: false, ttlMs: 0, why: `no VIP ${vip} on ${config.node.id}` };
        },
        granted: (vip, peer, sentAtMs, g) => this.#machines.get(vip)?.granted(peer, sentAtMs, g),
        dead: (d) => { for (const m of this.#machines.values()) m.peerDead(d.id, d.detectMs); },
        changed: () => { for (const m of this.#machines.values()) m.evidenceChanged(); },
        snapshot: () => this.snapshot(),
        presence: (node, inc) => this.#redis ? leaseConnectionPresence(this.#redis.state, config.cluster.name, node, inc) : Promise.resolve('unknown'),
      },
    });
  }

  #buildMachine(vip: Config['vips'][number], lease: LeaseClient, host: VipHost, timings: OwnershipTimings): VipMachine {
    const { config, metrics } = this.#o;
    const peers = this.#peers!;
    return new VipMachine({
      vip, nodeId: config.node.id, lease, driver: createDriver(vip, this.#o.logger, this.#driverTools()), host, timings, handover: config.cluster.handover,
      clock: this.#clock, logger: this.#o.logger, metrics,
      peers: { evidence: (id) => peers.evidence(id), required: () => peers.required(), beatNow: () => peers.beatNow(), claimants: (v) => peers.claimants(v) },
      guard: this.#guard ?? { arm: () => {}, disarm: () => {} },
      placement: config.cluster.vipPlacement, self: () => this.#candidates(vip.name).self, members: () => this.#candidates(vip.name).all, member: (id) => this.#memberView.get(id),
      send: (nodeId, req, timeoutMs) => this.#bus!.request(nodeId, req, timeoutMs),
      onChange: () => { void this.#heartbeat?.beatNow(); peers.beatNow(); },
      publish: (e) => { this.#redis?.state.publish(this.keys.events(), JSON.stringify(e)).catch(() => {}); this.#history?.published(e); },
      onRedis: (ok, err) => { if (ok) this.#leaseOkAtMs = this.#clock.nowMs(); this.#link.report('lease', ok, err); },
      redisOk: () => this.#leaseOk(),
      ...(this.#history ? { onTransition: (name: string, e: TransitionEvent<VipState>) => { try { this.#history!.transition(name, e); } catch (err) { this.#log.error({ err }, 'history: transition not recorded'); } } } : {}),
    });
  }

  /** Driver commands run in the VIP guard when there is one (a fork from a large node blocks its event loop). */
  #driverTools(): DriverTools {
    const g = this.#guard;
    if (!g) return { run: runCommand };
    return {
      run: (file, args, opts) => g.run(file, args, opts),
      ipChange: (a, addr, p, d, announce) => g.ipChange(a, addr, p, d, announce),
      prepare: (file, args, env) => g.prepare(file, args, env),
      garp: { prepare: (dev) => g.prepareGarp(dev), send: (dev, address) => g.garp(dev, address) },
    };
  }

  /** Last sign of life of a peer on this node's clock: its last beat on the peer link or its last heartbeat. */
  #lastSignMs(id: string): number | null {
    const beat = this.#peers?.evidence(id)?.lastSignMs ?? null;
    const m = this.#memberView.get(id);
    const heartbeat = m ? this.#membersAtMs - m.ageMs : null;
    return beat === null ? heartbeat : heartbeat === null ? beat : Math.max(beat, heartbeat);
  }

  /** Whether a lease command succeeded within the last lease TTL. */
  #leaseOk(): boolean { return this.#clock.nowMs() - this.#leaseOkAtMs < this.#o.config.cluster.lease.ttlMs; }

  /** Opens the readiness gate: VIP addresses bindable, then the shared state read. */
  async #gate(): Promise<void> {
    for (let i = 0; !this.#stopping; i++) {
      try { await this.readiness.checkBindable(this.#o.config.vips); break; } catch { await sleep(Math.min(1000, 100 * (i + 1))); }
    }
    if (this.#o.sharedState) {
      this.readiness.setProblem('waiting for the shared state');
      await this.#o.sharedState.ready();
      this.readiness.stateRead();
    } else {
      this.readiness.setProblem('waiting for a first Redis read');
    }
  }

  /** This node as it knows itself first-hand (its own heartbeat in the membership may be a beat old). */
  #selfFacts(): NodeFacts {
    const { node } = this.#o.config;
    const holds = [...this.#machines.values()].filter((m) => m.claimsNow()).map((m) => m.name);
    return {
      id: node.id, priority: node.priority, vipPriorities: node.vipPriorities, alive: true,
      ready: this.ready && this.#membersRead && this.#reachability.passed && !this.#stopping, drained: this.#drained, holds,
    };
  }

  /** The candidates of one VIP, with this node's first-hand facts in place of its heartbeat's. */
  #candidates(vip: string): { self: Candidate; all: Candidate[] } {
    const { config } = this.#o;
    const me = this.#selfFacts();
    const facts = [...this.#members.filter((m) => m.id !== me.id), me];
    const all = candidatesFor(vip, config.vips.map((v) => v.name), config.cluster.vipPlacement, facts);
    return { self: all[all.length - 1]!, all };
  }

  #onMembers(members: Member[]): void {
    if (!this.#o.sharedState) this.readiness.stateRead();
    const selfId = this.#o.config.node.id;
    this.#memberView = new Map(members.map((m) => [m.record.id, m]));
    this.#membersAtMs = this.#clock.nowMs();
    this.#history?.members(members);
    this.#membersRead = true;
    this.#members = members.map(toNodeFacts);
    this.#peers?.published(this.#recordPeers);
    const self = members.find((m) => m.record.id === selfId);
    if (self && self.drained !== this.#drained) this.#setDrained(self.drained);
    void this.#reachability.members(members).then(() => { if (this.#reachability.passed) this.readiness.peerChecked(); });
    // A peer alive again (a healed partition looks like this): clients on its side may still point at it.
    const returned = this.#returns.update(members.map((m) => ({ id: m.record.id, alive: m.alive })));
    if (returned.length) for (const m of this.#machines.values()) if (m.claimsNow()) this.#announce(m, `peer back: ${returned.join(', ')}`);
    const alive = members.filter((m) => m.alive && m.record.id !== selfId).map((m) => ({ id: m.record.id, address: m.record.peer, inc: m.record.incarnation || undefined }));
    this.#peers?.members(alive, new Set(members.map((m) => m.record.id)));
    for (const m of members) if (m.record.id !== selfId) this.#o.metrics.peerHeartbeatAgeSeconds.set({ peer: m.record.id }, m.ageMs / 1000);
    for (const m of this.#machines.values()) m.evidenceChanged();
  }

  /** Once Redis answers: refuse to go on with a loopback peer address while other nodes run on other hosts. */
  #buildReachability(): ReachabilityCheck {
    const { config, metrics } = this.#o;
    return new ReachabilityCheck({
      selfId: config.node.id, logger: this.#log,
      check: (members) => {
        const others = { advertised: members.filter((m) => m.alive).map((m) => ({ id: m.record.id, peer: m.record.peer })) };
        return checkAdvertisedReachable(this.#redis!.state, config.cluster.name, config.node.id, this.#advertised, others);
      },
      serving: () => [...this.#machines.values()].filter((m) => m.claimsNow()).map((m) => m.name),
      onFatal: (err) => this.#o.onFatal?.(err),
      onUnusable: () => { metrics.peerAddressUnusable.set(1); void this.#heartbeat?.beatNow(); },
    });
  }

  #announce(m: VipMachine, why: string): void {
    this.#log.info({ vip: m.name, why }, 're-announcing the VIP');
    m.d.driver.announce(m.ctx()).catch((err) => this.#log.warn({ err: (err as Error).message }, 'VIP re-announce failed'));
  }

  #setDrained(value: boolean): void {
    if (value === this.#drained) return;
    this.#drained = value;
    this.#o.metrics.draining.set(value ? 1 : 0);
    this.#log.info({ drained: value }, value ? 'node drained: it will not acquire a VIP' : 'node undrained');
    void this.#heartbeat?.beatNow();
  }

  #onEvent(message: string): void {
    let e: ClusterEvent;
    try { e = JSON.parse(message) as ClusterEvent; } catch { return; }
    if (e.type !== 'ownership') return;
    this.#history?.ownership(e);
    this.#machines.get(e.vip)?.ownershipEvent(e.epoch, e.owner);
  }

  #record(): Omit<HeartbeatRecord, 'sentAt'> {
    const { config } = this.#o;
    const vips = [...this.#machines.values()].map((m) => m.snapshot()).filter((s) => s.claims && s.epoch !== null).map((s) => ({ name: s.vip, epoch: s.epoch as number }));
    const state: HeartbeatRecord['state'] = this.#stopping ? 'stopping' : this.#drained ? 'maintenance' : this.ready ? 'ready' : 'starting';
    this.#recordPeers = this.#peers?.current() ?? [];
    return {
      id: config.node.id, address: config.node.address ?? config.node.admin.listen.replace(/:\d+$/, ''), admin: this.#o.adminAddress?.() ?? config.node.admin.listen,
      peer: this.#advertised, incarnation: this.incarnation, peers: this.#recordPeers, priority: config.node.priority, ...(config.node.vipPriorities ? { vipPriorities: config.node.vipPriorities } : {}), role: vips.length ? 'owner' : 'standby', state,
      ready: this.ready, ...(this.#reachability.problem ? { peerProblem: this.#reachability.problem } : {}), drained: this.#drained, version: this.#o.version ?? '0', startedAt: this.#startedAt,
      connections: this.#o.connections?.() ?? 0, vips, backendsDown: this.#o.backendsDown?.() ?? [],
      ...(this.#o.workers ? { workers: this.#o.workers() } : {}),
      ...(this.#o.edge ? { edge: this.#o.edge() } : {}),
    };
  }

  async #handle(req: CommandRequest): Promise<unknown> {
    if (req.op === 'state') return this.snapshot();
    if (req.op === 'drained') { this.#setDrained(req.value === true); return { drained: this.#drained }; }
    if (req.op === 'clients') return this.#clients();
    const m = req.vip ? this.#machines.get(req.vip) : undefined;
    if (!m) throw new NotFoundError(`VIP ${req.vip ?? '(none)'} on node ${this.#o.config.node.id}`);
    switch (req.op) {
      case 'handover': return m.handOver(req.to ?? '', req.reason ?? 'failover');
      case 'prepare': return m.prepare(req.from ?? '', req.epoch ?? 0);
      case 'commit': return m.commit(req.epoch ?? 0);
      case 'abort': return m.abort(req.from ?? '');
      default: throw new HandoverError(`unknown command ${String(req.op)}`);
    }
  }

  /** WebSocket clients per VIP on this node and the close window (the CLI shows a handover's clients leaving and coming back). */
  #clients(): { vips: Record<string, number>; closeWindowMs: number } {
    const vips: Record<string, number> = {};
    for (const name of this.#machines.keys()) vips[name] = this.#host?.tunnelCount(name) ?? 0;
    return { vips, closeWindowMs: this.#o.config.cluster.handover.closeWindowMs };
  }

  /** The agent's current view of itself. */
  snapshot(): AgentSnapshot {
    return {
      node: this.#o.config.node.id, pid: process.pid, incarnation: this.incarnation, ready: this.ready, readyProblem: this.readiness.problem, peerProblem: this.#reachability.problem, drained: this.#drained,
      redis: this.#link.state, peer: this.#advertised, peersLinked: this.#peers?.mesh.linked() ?? [], peersRequired: this.#peers?.required() ?? [],
      at: performance.timeOrigin + performance.now(), vips: [...this.#machines.values()].map((m) => m.snapshot()),
    };
  }

  /** Admin API: planned handover of one VIP (default: the first VIP this node owns). */
  async failover(req: { vip?: string; to?: string }, by?: Actor): Promise<FailoverResult> {
    const vip = req.vip ?? [...this.#machines.values()].find((m) => m.claimsNow())?.name ?? this.#o.config.vips[0]?.name;
    if (!vip) throw new HandoverError('no VIP configured');
    return failover(this.#redis!.state, this.keys, { vip, to: req.to, timeoutMs: this.#o.config.cluster.handover.timeoutMs, heartbeatTimeoutMs: this.#o.config.cluster.heartbeat.timeoutMs, by }, this.#bus);
  }

  /** Admin API: drain this node. */
  drain(by?: Actor): Promise<FailoverResult[]> {
    return drain(this.#redis!.state, this.keys, this.#o.config.node.id, { timeoutMs: this.#o.config.cluster.handover.timeoutMs, heartbeatTimeoutMs: this.#o.config.cluster.heartbeat.timeoutMs, by });
  }

  /** Admin API: undrain this node. */
  undrain(by?: Actor): Promise<unknown> { return undrain(this.#redis!.state, this.keys, this.#o.config.node.id, by); }

  /** Shutdown: hands an owned VIP to the best eligible node, if any; failures fall back to release. */
  async #handOff(m: VipMachine): Promise<void> {
    const snap = m.snapshot();
    if (snap.state !== 'owner' || snap.epoch === null) return;
    const plan = planHandover(m.name, { nodeId: this.#o.config.node.id, epoch: snap.epoch }, [...this.#memberView.values()]);
    if ('reason' in plan) { this.#log.info({ vip: m.name, why: plan.reason }, 'shutdown: no handover target; releasing the VIP'); return; }
    try {
      const r = await m.handOver(plan.target, 'shutdown');
      this.#log.info({ ...r }, 'shutdown: VIP handed over');
    } catch (err) {
      this.#log.warn({ vip: m.name, err: (err as Error).message }, 'shutdown: handover failed; releasing the VIP');
    }
  }

  /**
   * Graceful stop (SIGTERM): each owned VIP is first handed to the best
   * eligible node by a planned handover (make-before-break: a rolling
   * restart refuses no client); what cannot be handed over is stepped down
   * and its lease released (a standby acquires on the release event). The
   * peers hear `bye`, the last heartbeat says `stopping`, and only then does
   * the peer link close, so that no standby ever "proves" the death of a
   * node that still serves.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#history?.left('shutdown');
    await Promise.all([...this.#machines.values()].map((m) => this.#handOff(m)));
    await Promise.all([...this.#machines.values()].map((m) => m.stop().catch((err) => this.#log.error({ err, vip: m.name }, 'vip stop failed'))));
    this.#peers?.bye();
    await this.#heartbeat?.stop();
    await this.#guard?.stop();
    this.#replicas?.stop();
    await this.#peers?.close();
    await this.#bus?.close();
    this.#history?.close();
    for (const r of Object.values(this.#redis ?? {})) r.disconnect();
  }
}

function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

function enableMigrateReq(log: Logger): void {
  try {
    writeFileSync(MIGRATE_REQ_SYSCTL, '1');
    log.info('net.ipv4.tcp_migrate_req=1: queued connections of a closing listener migrate during handover');
  } catch (err) {
    log.debug({ err: (err as Error).message }, 'net.ipv4.tcp_migrate_req not writable; queued connections of a closing listener may be reset during handover');
  }
}
