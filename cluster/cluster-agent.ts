/**
 * The control plane of one node: composes the Redis connections (lease,
 * state, subscriber), the heartbeat and membership view, the peer link, the
 * readiness gate, the command bus and one VipManager per VIP, and drives the
 * node's VipHost (the ProxyNode). node/main.ts creates it and calls
 * `start(node)`; `stop()` hands the VIPs back before the process exits.
 */
import type Redis from 'ioredis';
import { writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../shared/config/schema';
import type { Metrics } from '../shared/metrics';
import { systemClock, type Clock } from '../shared/clock';
import { createRedis } from '../shared/redis/connect';
import { RedisKeys } from '../shared/redis/keys';
import { HandoverError, NotFoundError } from '../shared/errors';
import type { HeartbeatRecord, ClusterEvent } from '../shared/records';
import type { VipHost } from '../node/vip-host';
import { Heartbeat } from './membership/heartbeat';
import { toCandidate, type Member } from './membership/members';
import { Readiness } from './membership/readiness';
import { PeerServer } from './peer/peer-server';
import { PeerMesh, type PeerDeath } from './peer/peer-mesh';
import { CommandBus, type CommandRequest } from './control/command-bus';
import { failover, type FailoverResult } from './control/failover';
import { drain, undrain } from './control/drain';
import { planHandover } from './control/preflight';
import { LeaseClient } from './vip/lease';
import { VipManager, type VipSnapshot } from './vip/vip-manager';
import { createDriver } from './vip/drivers/create-driver';
import type { Candidate } from './vip/preemption';
import { RedisLink } from './redis-link';
import { PeerReturnWatch } from './vip/drivers/reannounce';

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
  /** HOST:PORT the admin API really listens on (node.admin.listen may say port 0). */
  adminAddress?: () => string;
  version?: string;
}

/** What the agent shows of itself (peer `state` line, admin API, tests' sampler). */
export interface AgentSnapshot {
  node: string;
  pid: number;
  ready: boolean;
  readyProblem: string | null;
  drained: boolean;
  redis: string;
  peer: string;
  /** High-resolution wall ms when this snapshot was taken. */
  at: number;
  vips: VipSnapshot[];
}

/** Linux: let connections queued on a closing SO_REUSEPORT listener move to a sibling (planned handover). */
const MIGRATE_REQ_SYSCTL = '/proc/sys/net/ipv4/tcp_migrate_req';

/** The control plane of one node (see the file comment). */
export class ClusterAgent {
  readonly keys: RedisKeys;
  readonly readiness = new Readiness();
  readonly #o: ClusterAgentOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #startedAt = Date.now();
  readonly #managers = new Map<string, VipManager>();
  readonly #link: RedisLink;
  #redis: { lease: Redis; state: Redis; sub: Redis } | undefined;
  #heartbeat: Heartbeat | undefined;
  #peerServer: PeerServer | undefined;
  #mesh: PeerMesh | undefined;
  #bus: CommandBus | undefined;
  #members: Candidate[] = [];
  #memberView: Member[] = [];
  #returns: PeerReturnWatch;
  #drained = false;
  /** The drained set has been read once: until then this node must not acquire (it may be drained). */
  #membersRead = false;
  #stopping = false;

  constructor(o: ClusterAgentOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#log = o.logger.child({ component: 'cluster' });
    this.keys = new RedisKeys(o.config.cluster.name);
    this.#returns = new PeerReturnWatch(o.config.node.id);
    this.#link = new RedisLink(o.config.cluster.lease.ttlMs, this.#clock, this.#log, o.metrics);
  }

  get drained(): boolean { return this.#drained; }
  get ready(): boolean { return this.readiness.ready; }

  /** Starts everything; VIPs are acquired once the readiness gate opens. */
  async start(host: VipHost): Promise<void> {
    const { config } = this.#o;
    const rc = config.cluster.redis;
    const redis = { lease: createRedis(rc, 'lease'), state: createRedis(rc, 'state'), sub: createRedis(rc, 'subscriber') };
    this.#redis = redis;
    for (const [purpose, r] of Object.entries(redis)) r.on('error', (err: Error) => this.#log.debug({ purpose, err: err.message }, 'redis connection error'));
    await Promise.all(Object.values(redis).map((r) => r.connect().catch((err: Error) => this.#log.warn({ err: err.message }, 'redis not reachable yet; retrying'))));

    this.#peerServer = new PeerServer(() => this.snapshot(), this.#log);
    await this.#peerServer.listen(config.node.peer.listen);
    this.#mesh = new PeerMesh(config.node.id, config.node.peer.confirmTimeoutMs, this.#log);
    this.#mesh.on('dead', (d: PeerDeath) => { for (const m of this.#managers.values()) m.peerDead(d.id); });
    enableMigrateReq(this.#log);

    // Registered after the first connect: every 'ready' from here on is a reconnect.
    redis.lease.on('ready', () => {
      this.#log.warn({ quietMs: config.cluster.lease.ttlMs }, 'lease connection re-established: no VIP acquisition for one lease TTL');
      for (const m of this.#managers.values()) m.quietFor(config.cluster.lease.ttlMs);
    });
    const lease = new LeaseClient(redis.lease, this.keys);
    for (const vip of config.vips) this.#managers.set(vip.name, this.#buildManager(vip, lease, host));

    this.#bus = new CommandBus(redis.state, redis.sub, this.keys, config.node.id, (req) => this.#handle(req));
    redis.sub.on('message', (channel: string, message: string) => { if (channel === this.keys.events()) this.#onEvent(message); });
    // Not awaited: with Redis down the subscriber queues these until it connects, and start() must not wait for Redis.
    Promise.all([this.#bus.start(), redis.sub.subscribe(this.keys.events())]).catch((err: Error) => this.#log.warn({ err: err.message }, 'subscribe failed; ioredis resubscribes on reconnect'));

    this.#heartbeat = new Heartbeat({
      redis: redis.state, keys: this.keys, intervalMs: config.cluster.heartbeat.intervalMs, timeoutMs: config.cluster.heartbeat.timeoutMs,
      record: () => this.#record(), onMembers: (m) => this.#onMembers(m), onRedis: (ok, err) => this.#link.report('state', ok, err), logger: this.#log,
    });
    this.readiness.onChange(() => { this.#log.info({ ready: this.ready }, 'readiness changed'); void this.#heartbeat?.beatNow(); });
    this.#heartbeat.start();
    void this.#gate();
    for (const m of this.#managers.values()) { void m.d.driver.cleanup(m.ctx()).catch(() => {}); m.start(); }
  }

  #buildManager(vip: Config['vips'][number], lease: LeaseClient, host: VipHost): VipManager {
    const { config, metrics } = this.#o;
    return new VipManager({
      vip, nodeId: config.node.id, lease, driver: createDriver(vip, this.#o.logger), host,
      timings: config.cluster.lease, handover: config.cluster.handover, clock: this.#clock, logger: this.#o.logger, metrics,
      self: () => this.#self(), members: () => this.#members,
      send: (nodeId, req, timeoutMs) => this.#bus!.request(nodeId, req, timeoutMs),
      onChange: () => void this.#heartbeat?.beatNow(),
      publish: (e) => { this.#redis?.state.publish(this.keys.events(), JSON.stringify(e)).catch(() => {}); },
      onRedis: (ok, err) => this.#link.report('lease', ok, err),
    });
  }

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

  #self(): Candidate {
    return { id: this.#o.config.node.id, priority: this.#o.config.node.priority, alive: true, ready: this.ready && this.#membersRead && !this.#stopping, drained: this.#drained };
  }

  #onMembers(members: Member[]): void {
    if (!this.#o.sharedState) this.readiness.stateRead();
    this.#memberView = members;
    this.#membersRead = true;
    this.#members = members.map(toCandidate);
    const self = members.find((m) => m.record.id === this.#o.config.node.id);
    if (self && self.drained !== this.#drained) this.#setDrained(self.drained);
    // A peer alive again (a healed partition looks like this): clients on its side may still point at it.
    const returned = this.#returns.update(members.map((m) => ({ id: m.record.id, alive: m.alive })));
    if (returned.length) for (const m of this.#managers.values()) m.announce(`peer back: ${returned.join(', ')}`);
    this.#mesh?.update(members.filter((m) => m.alive).map((m) => ({ id: m.record.id, peer: m.record.peer, startedAt: m.record.startedAt })));
    const now = Date.now();
    for (const m of members) if (m.record.id !== this.#o.config.node.id) this.#o.metrics.peerHeartbeatAgeSeconds.set({ peer: m.record.id }, Math.max(0, now - m.record.sentAt) / 1000);
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
    this.#managers.get(e.vip)?.epochSeen(e.epoch);
    if (e.owner === null) this.#managers.get(e.vip)?.leaseMayBeFree();
  }

  #record(): Omit<HeartbeatRecord, 'sentAt'> {
    const { config } = this.#o;
    const vips = [...this.#managers.values()].map((m) => m.snapshot()).filter((s) => s.claims && s.epoch !== null).map((s) => ({ name: s.vip, epoch: s.epoch as number }));
    const state: HeartbeatRecord['state'] = this.#stopping ? 'stopping' : this.#drained ? 'maintenance' : this.ready ? 'ready' : 'starting';
    return {
      id: config.node.id, address: config.node.address ?? config.node.admin.listen.replace(/:\d+$/, ''), admin: this.#o.adminAddress?.() ?? config.node.admin.listen,
      peer: this.#peerServer?.address ?? '', priority: config.node.priority, role: vips.length ? 'owner' : 'standby', state,
      ready: this.ready, drained: this.#drained, version: this.#o.version ?? '0', startedAt: this.#startedAt,
      connections: this.#o.connections?.() ?? 0, vips, backendsDown: this.#o.backendsDown?.() ?? [],
    };
  }

  async #handle(req: CommandRequest): Promise<unknown> {
    if (req.op === 'state') return this.snapshot();
    if (req.op === 'drained') { this.#setDrained(req.value === true); return { drained: this.#drained }; }
    const m = req.vip ? this.#managers.get(req.vip) : undefined;
    if (!m) throw new NotFoundError(`VIP ${req.vip ?? '(none)'} on node ${this.#o.config.node.id}`);
    switch (req.op) {
      case 'handover': return m.handOver(req.to ?? '', req.reason ?? 'failover');
      case 'prepare': return m.prepare(req.from ?? '', req.epoch ?? 0);
      case 'commit': return m.commit(req.epoch ?? 0);
      case 'abort': return m.abort(req.from ?? '');
      default: throw new HandoverError(`unknown command ${String(req.op)}`);
    }
  }

  /** The agent's current view of itself. */
  snapshot(): AgentSnapshot {
    return {
      node: this.#o.config.node.id, pid: process.pid, ready: this.ready, readyProblem: this.readiness.problem, drained: this.#drained,
      redis: this.#link.state, peer: this.#peerServer?.address ?? '', at: performance.timeOrigin + performance.now(),
      vips: [...this.#managers.values()].map((m) => m.snapshot()),
    };
  }

  /** Admin API: planned handover of one VIP (default: the first VIP this node owns). */
  async failover(req: { vip?: string; to?: string }): Promise<FailoverResult> {
    const vip = req.vip ?? [...this.#managers.values()].find((m) => m.snapshot().claims)?.name ?? this.#o.config.vips[0]?.name;
    if (!vip) throw new HandoverError('no VIP configured');
    return failover(this.#redis!.state, this.keys, { vip, to: req.to, timeoutMs: this.#o.config.cluster.handover.timeoutMs, heartbeatTimeoutMs: this.#o.config.cluster.heartbeat.timeoutMs }, this.#bus);
  }

  /** Admin API: drain this node. */
  drain(): Promise<FailoverResult[]> {
    return drain(this.#redis!.state, this.keys, this.#o.config.node.id, { timeoutMs: this.#o.config.cluster.handover.timeoutMs, heartbeatTimeoutMs: this.#o.config.cluster.heartbeat.timeoutMs });
  }

  /** Admin API: undrain this node. */
  undrain(): Promise<unknown> { return undrain(this.#redis!.state, this.keys, this.#o.config.node.id); }

  /** Shutdown: hands an owned VIP to the best eligible node, if any; failures fall back to release. */
  async #handOff(m: VipManager): Promise<void> {
    const snap = m.snapshot();
    if (snap.state !== 'owner' || snap.epoch === null) return;
    const plan = planHandover(m.name, { nodeId: this.#o.config.node.id, epoch: snap.epoch }, this.#memberView);
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
   * last heartbeat says `stopping`, and only then does the peer link close,
   * so that no standby ever "confirms" the death of a node that still serves.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    await Promise.all([...this.#managers.values()].map((m) => this.#handOff(m)));
    await Promise.all([...this.#managers.values()].map((m) => m.stop().catch((err) => this.#log.error({ err, vip: m.name }, 'vip stop failed'))));
    await this.#heartbeat?.stop();
    this.#mesh?.close();
    await this.#bus?.close();
    await this.#peerServer?.close();
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
