/**
 * Everything a node shares with its cluster through Redis, behind one
 * object: merged backend health (active probes + passive failures),
 * session affinity, cluster-wide connection counts and live pool changes.
 * `view` is what routing reads (the worker fleet pushes a copy of it to
 * every worker); `attach(dataPlane)` lets live pool changes and
 * `onBackendDown: close` reach the data plane.
 *
 * Lifecycle: construct -> start() -> ready() resolves once the initial
 * verdicts and live pool changes were read from Redis (retried until Redis
 * answers; the agent's readiness gate waits on it) -> stop().
 * Routing never waits on Redis: every read on the hot path is in memory,
 * and the one Redis read per new sticky connection has a short timeout.
 */
import type Redis from 'ioredis';
import type { Config, PoolConfig } from '../shared/config/schema';
import type { ClusterView } from '../shared/cluster-view';
import type { ClusterEvent } from '../shared/records';
import { RedisKeys } from '../shared/redis/keys';
import { createRedis, redisAddress } from '../shared/redis/connect';
import { systemClock, type Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import { HealthProber } from './health/prober';
import { PassiveHealth } from './health/passive';
import { HealthSync, type VerdictChange } from './health/health-sync';
import { SessionStore } from './affinity/session-store';
import { ConnectionCountsSync } from './counts/connection-counts';
import type { DataPlane } from '../shared/ports/data-plane';
import { ConfigSync } from './config-sync/config-sync';
import { RedisRateLimit } from './ratelimit/redis-rate-limit';

/** What SharedState needs from the data plane (the DataPlane port; the worker fleet implements it). */
export type DataPlaneHooks = Pick<DataPlane, 'updatePools' | 'closeBackendTunnels' | 'localCounts'>;

/** Construction options. */
export interface SharedStateOptions {
  config: Config;
  log: Logger;
  metrics?: Metrics;
  clock?: Clock;
  /** Connections to reuse; the ones not given are created (and closed by stop()). */
  redis?: { state?: Redis; subscriber?: Redis };
}

/** Close code for tunnels of a backend that went down with `onBackendDown: close` (1012 service restart: reconnect). */
export const BACKEND_DOWN_CLOSE_CODE = 1012;
/** Poll of `pools:version`, the fallback for a missed pools event; keeps "applied within a second". */
export const POOLS_POLL_MS = 500;
/** Retry delay bounds of the initial read while Redis does not answer. */
const INIT_RETRY_MIN_MS = 100;
const INIT_RETRY_MAX_MS = 1000;

/** Shared state of one node. */
export class SharedState {
  readonly view: ClusterView;
  readonly keys: RedisKeys;
  readonly health: HealthSync;
  readonly sessions: SessionStore;
  readonly counts: ConnectionCountsSync;
  readonly pools: ConfigSync;
  readonly prober: HealthProber;
  readonly passive: PassiveHealth;
  readonly #o: SharedStateOptions;
  readonly #redis: Redis;
  readonly #sub: Redis;
  readonly #owned: Redis[] = [];
  #node: DataPlaneHooks | null = null;
  #ready: Promise<void> | null = null;
  #stopped = false;
  #initialDone = false;

  constructor(o: SharedStateOptions) {
    this.#o = o;
    const { config, log, metrics } = o;
    const clock = o.clock ?? systemClock;
    const nodeId = config.node.id;
    this.keys = new RedisKeys(config.cluster.name);
    this.#redis = o.redis?.state ?? this.#own(createRedis(config.cluster.redis, 'state'));
    this.#sub = o.redis?.subscriber ?? this.#own(createRedis(config.cluster.redis, 'subscriber'));
    const hlog = log.child({ component: 'shared-state' });
    this.health = new HealthSync({ redis: this.#redis, keys: this.keys, nodeId, cluster: config.cluster, clock, log: hlog, metrics });
    this.sessions = new SessionStore({ redis: this.#redis, keys: this.keys, ttlMs: config.cluster.affinity.ttlMs, lookupTimeoutMs: config.cluster.affinity.lookupTimeoutMs, log: hlog, metrics });
    this.counts = new ConnectionCountsSync({ redis: this.#redis, keys: this.keys, nodeId, intervalMs: config.cluster.heartbeat.intervalMs, staleMs: config.cluster.heartbeat.timeoutMs, clock, log: hlog, metrics });
    this.pools = new ConfigSync({ redis: this.#redis, keys: this.keys, base: config.pools, pollMs: POOLS_POLL_MS, log: hlog, metrics });
    this.prober = new HealthProber(nodeId, (r) => { void this.health.publishLocal(r.pool, r.backendId, r.observation); }, { clock, log: hlog, metrics });
    this.passive = new PassiveHealth(
      (pool) => this.pools.pools[pool]?.healthCheck.passiveFail ?? Infinity,
      (pool, id, reason) => { this.health.markLocalDown(pool, id, reason); this.prober.forceDown(pool, id, reason); },
    );
    this.view = { health: this.health, passive: this.passive, affinity: this.sessions, counts: this.counts, rateLimit: new RedisRateLimit(this.#redis, this.keys) };
    this.pools.onPools((pools) => this.#poolsChanged(pools));
    this.health.onChange((c) => this.#verdictChanged(c));
    this.#poolsChanged(this.pools.pools);
  }

  /** Connects the data plane: live pool changes and `onBackendDown: close` reach it from now on. */
  attach(node: DataPlaneHooks): void {
    this.#node = node;
    this.counts.setSource(() => node.localCounts());
    if (this.pools.pools !== this.#o.config.pools) node.updatePools(this.pools.pools, this.#removedGrace());
  }

  /** Membership liveness (heartbeats, peer link): a dead node's observations and counts stop counting at once. */
  setNodeAliveCheck(fn: (nodeId: string) => boolean): void {
    this.health.isNodeAlive = fn;
    this.counts.isNodeAlive = fn;
  }

  /** Connects, subscribes, starts probes and syncs; the initial read runs in the background (see ready()). */
  async start(): Promise<void> {
    const log = this.#o.log;
    for (const r of this.#owned) {
      r.on('error', (err) => log.debug({ err: err.message }, 'redis connection error'));
      r.connect().catch((err: Error) => log.warn({ err: err.message, redis: redisAddress(this.#o.config.cluster.redis) }, 'cannot connect to redis yet; retrying'));
    }
    // After a reconnect (maybe to a restarted or failed-over Redis that lost data) rewrite the verdict table.
    this.#redis.on('ready', () => { if (this.#initialDone) void this.health.writeTable(); });
    this.#sub.on('message', (channel: string, msg: string) => this.#onMessage(channel, msg));
    this.#sub.subscribe(this.keys.events()).catch((err: Error) => log.warn({ err: err.message }, 'cannot subscribe to cluster events yet'));
    this.prober.start();
    this.#ready = this.#initialRead();
    void this.#ready.then(() => {
      if (this.#stopped) return;
      this.health.start();
      this.counts.start();
      this.pools.start();
      this.sessions.start();
    });
  }

  /** Resolves once initial verdicts, sessions and live pool changes were read from Redis. */
  ready(): Promise<void> {
    if (!this.#ready) return Promise.reject(new Error('SharedState.ready() before start()'));
    return this.#ready;
  }

  /** Backends whose merged verdict is down, as `pool/backend` (for heartbeats). */
  downBackends(): string[] { return this.health.downBackends(); }

  /** Stops every loop and closes the connections it created. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.prober.stop();
    this.health.stop();
    this.pools.stop();
    this.sessions.stop();
    await this.counts.stop();
    for (const r of this.#owned) r.disconnect();
  }

  /** JSON-able state for the admin API. */
  snapshot(): { poolsVersion: number; verdicts: ReturnType<HealthSync['snapshot']>; sessions: SessionStore['stats'] } {
    return { poolsVersion: this.pools.version, verdicts: this.health.snapshot(), sessions: { ...this.sessions.stats } };
  }

  /** Tunnels of a backend removed live get 1012 after the drain grace (time to finish what they do). */
  #removedGrace(): { graceMs: number } { return { graceMs: this.#o.config.node.drain.graceMs }; }

  #own(r: Redis): Redis { this.#owned.push(r); return r; }

  async #initialRead(): Promise<void> {
    let delay = INIT_RETRY_MIN_MS;
    for (let attempt = 0; !this.#stopped; attempt++) {
      if (this.#redis.status === 'ready' && (await this.pools.load()) && (await this.health.refresh())) {
        await this.health.writeTable();
        this.#initialDone = true;
        this.#o.log.info({ poolsVersion: this.pools.version, down: this.downBackends() }, 'shared state read from redis');
        return;
      }
      if (attempt === 10) this.#o.log.warn({ redis: redisAddress(this.#o.config.cluster.redis) }, 'still waiting for redis to read shared state');
      await new Promise((r) => setTimeout(r, delay).unref());
      delay = Math.min(delay * 2, INIT_RETRY_MAX_MS);
    }
  }

  #onMessage(channel: string, msg: string): void {
    if (channel !== this.keys.events()) return;
    let ev: ClusterEvent;
    try { ev = JSON.parse(msg) as ClusterEvent; } catch { return; }
    this.health.onEvent(ev);
    this.pools.onEvent(ev);
  }

  #poolsChanged(pools: Readonly<Record<string, PoolConfig>>): void {
    this.health.setPools(pools);
    this.prober.setPools(pools);
    this.counts.setPools(Object.keys(pools));
    if (this.#node) this.#node.updatePools(pools, this.#removedGrace());
    if (this.#ready) void this.health.writeTable();
  }

  #verdictChanged(c: VerdictChange): void {
    if (c.up) { this.passive.reset(c.pool, c.backendId); return; }
    if (this.pools.pools[c.pool]?.onBackendDown !== 'close' || !this.#node) return;
    Promise.resolve(this.#node.closeBackendTunnels(c.pool, c.backendId, BACKEND_DOWN_CLOSE_CODE))
      .then((n) => { if (n) this.#o.log.info({ pool: c.pool, backend: c.backendId, closed: n }, 'closed tunnels of a backend that went down'); })
      .catch((err: Error) => this.#o.log.error({ err: err.message }, 'closing tunnels of a down backend failed'));
  }
}
