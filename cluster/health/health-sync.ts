/**
 * Shares backend health through Redis. Each node writes its own observation
 * of each backend into `health:{pool}:{backend}` (field = node id), reads
 * everyone's back on a short period (one pipelined round trip), and merges
 * the fresh ones of live nodes (current heartbeat) into the verdict routing
 * uses (cluster/health/verdict.ts).
 * A verdict change is logged, counted, written to `verdict:{pool}` and
 * pushed on the events channel, so peers re-read that backend at once.
 *
 * Passive failures act on the node that saw them at once (`markLocalDown`).
 * Routing reads the in-memory verdicts only (`isUp`, `rampFactor`). When
 * Redis is unreachable the node keeps its last known observations; peers'
 * ones age out, and its own (always fresh) carry the verdict.
 */
import type Redis from 'ioredis';
import type { ClusterConfig, PoolConfig } from '../../shared/config/schema';
import type { HealthObservation, ClusterEvent } from '../../shared/records';
import type { HealthView } from '../../shared/cluster-view';
import type { RedisKeys } from '../../shared/redis/keys';
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import type { HealthEntry } from '../../shared/ports/worker-protocol';
import { mergeVerdict, parseObservation, type MergedVerdict, type VerdictState } from './verdict';
import { rampFactor } from '../../shared/health/slow-start';
import { redisTimeMs } from '../membership/members';
import { ArrivalAges } from '../membership/arrival-ages';

/** A change of the merged verdict of one backend. */
export interface VerdictChange {
  pool: string;
  backendId: string;
  up: boolean;
  verdict: MergedVerdict;
}

interface Entry {
  /** Latest observation of each node (own included). */
  obs: Map<string, HealthObservation>;
  /** When each node's observation arrived here (its freshness, on this node's clock). */
  ages: ArrivalAges;
  merged: MergedVerdict;
  /** Monotonic ms when it last came back up (slow start), or null. */
  upSinceMs: number | null;
  freshMs: number;
  slowStartMs: number;
  /**
   * Passive failures on this node: it stops sending new connections there at
   * once, whatever the merged verdict says, until its own checks see the
   * backend up again (after `rise`). The other nodes learn of it through this
   * node's observation, which counts in their merge like any other.
   */
  localDown: boolean;
}

/** The alive set from ZCARD and ZRANGEBYSCORE answers of a pipeline; null when no node heartbeats (or on error). */
/** Nodes whose heartbeat (stamped with Redis TIME) is younger than `timeoutMs` on Redis's clock; null when none is known. */
function heartbeatingNodes(time: [Error | null, unknown] | undefined, scored: [Error | null, unknown] | undefined, timeoutMs: number): Set<string> | null {
  if (!time || !scored || time[0] || scored[0]) return null;
  const flat = scored[1] as string[];
  if (flat.length === 0) return null;
  const now = redisTimeMs(time[1] as [string, string]);
  const out = new Set<string>();
  for (let i = 0; i + 1 < flat.length; i += 2) if (now - Number(flat[i + 1]) <= timeoutMs) out.add(flat[i]!);
  return out;
}

/** Observations keep for this many freshness windows in Redis, then the key expires. */
const OBSERVATION_KEEP_WINDOWS = 20;

/** Merged health of every backend, kept in memory and in sync with Redis. */
export class HealthSync implements HealthView {
  /** pool -> backend -> entry. */
  readonly #entries = new Map<string, Map<string, Entry>>();
  readonly #listeners: Array<(c: VerdictChange) => void> = [];
  readonly #routingListeners: Array<() => void> = [];
  #timer: NodeJS.Timeout | null = null;
  #refreshMs = 1000;
  #redisFailing = false;
  /**
   * Nodes with a current heartbeat (`nodes` zset, read with the observations),
   * or null while no node heartbeats at all (nodes without the agent): a node
   * that died stops voting after the heartbeat timeout, well before its last
   * observation would age out.
   */
  #heartbeating: Set<string> | null = null;
  /** Membership liveness (peer link, heartbeats); observations of nodes it calls dead are ignored at once. */
  isNodeAlive: ((nodeId: string) => boolean) | undefined;

  constructor(readonly opts: {
    redis: Redis; keys: RedisKeys; nodeId: string; cluster: ClusterConfig;
    clock: Clock; log: Logger; metrics?: Metrics;
  }) {}

  /** Calls `fn` on every change of a merged verdict. */
  onChange(fn: (c: VerdictChange) => void): void { this.#listeners.push(fn); }

  /** Called whenever what routing reads may have changed (a verdict, a local passive mark, the tracked backends). */
  onRoutingChange(fn: () => void): void { this.#routingListeners.push(fn); }

  /** What routing reads of every tracked backend, for data-plane processes that route on a copy. */
  routingTable(): HealthEntry[] {
    const out: HealthEntry[] = [];
    for (const [pool, m] of this.#entries) {
      for (const [backendId, e] of m) out.push({ pool, backendId, up: e.merged.state !== 'down' && !e.localDown, upSinceMs: e.upSinceMs, slowStartMs: e.slowStartMs });
    }
    return out;
  }

  #routingChanged(): void {
    for (const l of this.#routingListeners) {
      try { l(); } catch (err) { this.opts.log.error({ err }, 'routing listener failed'); }
    }
  }

  /** Tracks the backends of the effective pools; forgets ones that left. */
  setPools(pools: Readonly<Record<string, PoolConfig>>): void {
    const fresh = this.opts.cluster.health.freshIntervals;
    let minInterval = Infinity;
    for (const [pool, m] of this.#entries) {
      for (const id of m.keys()) if (!pools[pool]?.backends.some((b) => b.id === id)) { m.delete(id); this.opts.metrics?.backendUp.remove({ pool, backend: id }); }
      if (m.size === 0) this.#entries.delete(pool);
    }
    for (const [pool, p] of Object.entries(pools)) {
      let m = this.#entries.get(pool);
      if (!m) { m = new Map(); this.#entries.set(pool, m); }
      const freshMs = fresh * p.healthCheck.intervalMs + p.healthCheck.timeoutMs;
      minInterval = Math.min(minInterval, p.healthCheck.intervalMs);
      for (const b of p.backends) {
        const e = m.get(b.id);
        if (e) { e.freshMs = freshMs; e.slowStartMs = p.slowStartMs; continue; }
        m.set(b.id, { obs: new Map(), ages: new ArrivalAges(), merged: { state: 'unknown', observers: 0, downVotes: 0 }, upSinceMs: null, freshMs, slowStartMs: p.slowStartMs, localDown: false });
        this.opts.metrics?.backendUp.set({ pool, backend: b.id }, 1);
      }
    }
    this.#refreshMs = Math.max(50, Math.min(1000, Number.isFinite(minInterval) ? minInterval : 1000));
    if (this.#timer) { this.stop(); this.start(); }
    this.#routingChanged();
  }

  /** Starts the periodic re-read of everyone's observations. */
  start(): void {
    if (this.#timer) return;
    const tick = (): void => {
      void this.refresh().finally(() => { if (this.#timer) { this.#timer = setTimeout(tick, this.#refreshMs); this.#timer.unref(); } });
    };
    this.#timer = setTimeout(tick, this.#refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  isUp(pool: string, backendId: string): boolean {
    const e = this.#entries.get(pool)?.get(backendId);
    return e === undefined || (e.merged.state !== 'down' && !e.localDown);
  }

  rampFactor(pool: string, backendId: string): number {
    const e = this.#entries.get(pool)?.get(backendId);
    return e === undefined ? 1 : rampFactor(e.upSinceMs, this.opts.clock.nowMs(), e.slowStartMs);
  }

  /** The merged verdict of one backend, or undefined when not tracked. */
  verdict(pool: string, backendId: string): MergedVerdict | undefined { return this.#entries.get(pool)?.get(backendId)?.merged; }

  /** The latest observation of each node of one backend (the history's verdict events name the observers). */
  observations(pool: string, backendId: string): HealthObservation[] {
    return [...(this.#entries.get(pool)?.get(backendId)?.obs.values() ?? [])];
  }

  /** Backends whose verdict is down, as `pool/backend` (for heartbeats). */
  downBackends(): string[] {
    const out: string[] = [];
    for (const [pool, m] of this.#entries) for (const [id, e] of m) if (e.merged.state === 'down' || e.localDown) out.push(`${pool}/${id}`);
    return out;
  }

  /** Passive failures on this node: no new connections from here until its own checks see the backend up. */
  markLocalDown(pool: string, backendId: string, reason: string): void {
    const e = this.#entries.get(pool)?.get(backendId);
    if (!e || e.localDown) return;
    e.localDown = true;
    this.opts.log.warn({ pool, backend: backendId, reason }, 'backend down on this node (passive failures)');
    this.#routingChanged();
  }

  /** Records this node's own observation, merges at once, and writes it to Redis (not awaited by callers). */
  async publishLocal(pool: string, backendId: string, o: HealthObservation): Promise<void> {
    const e = this.#entries.get(pool)?.get(backendId);
    if (!e) return;
    e.obs.set(o.nodeId, o);
    e.ages.seen(o.nodeId, JSON.stringify(o), this.opts.clock.nowMs());
    if (o.up && e.localDown) {
      e.localDown = false;
      this.opts.log.info({ pool, backend: backendId }, 'backend up again on this node after passive failures');
      this.#routingChanged();
    }
    this.#recompute(pool, backendId, e);
    // Not connected yet (start-up) or lost: the next check publishes; refresh() reports the outage.
    if (this.opts.redis.status !== 'ready') return;
    const key = this.opts.keys.health(pool, backendId);
    try {
      await this.opts.redis.multi().hset(key, o.nodeId, JSON.stringify(o)).pexpire(key, e.freshMs * OBSERVATION_KEEP_WINDOWS).exec();
      this.#redisOk();
    } catch (err) { this.#redisError(err); }
  }

  /** Re-reads every backend's observations from Redis (one pipeline) and re-merges. Never throws. */
  async refresh(only?: { pool: string; backendId: string }): Promise<boolean> {
    const list: Array<[string, string, Entry]> = [];
    for (const [pool, m] of this.#entries) for (const [id, e] of m) if (!only || (only.pool === pool && only.backendId === id)) list.push([pool, id, e]);
    let ok = true;
    if (list.length) {
      try {
        const started = performance.now();
        const p = this.opts.redis.pipeline();
        for (const [pool, id] of list) p.hgetall(this.opts.keys.health(pool, id));
        p.time().zrange(this.opts.keys.nodes(), '0', '-1', 'WITHSCORES');
        const res = (await p.exec()) ?? [];
        this.opts.metrics?.redisRoundTripSeconds.observe({ purpose: 'state' }, (performance.now() - started) / 1000);
        list.forEach((item, i) => { const [err, val] = res[i] ?? []; if (!err && val) this.#absorb(item[2], val as Record<string, string>); });
        this.#heartbeating = heartbeatingNodes(res[list.length], res[list.length + 1], this.opts.cluster.heartbeat.timeoutMs);
        this.#redisOk();
      } catch (err) { ok = false; this.#redisError(err); }
    }
    // Freshness depends on time: re-merge even when nothing new was read.
    for (const [pool, id, e] of list) this.#recompute(pool, id, e);
    return ok;
  }

  /**
   * Writes the whole verdict table of the tracked backends to `verdict:{pool}`
   * (up, down or unknown) and removes backends that left, so that the CLI can
   * list them. Never throws.
   */
  async writeTable(): Promise<void> {
    try {
      const m = this.opts.redis.multi();
      for (const [pool, entries] of this.#entries) {
        const key = this.opts.keys.verdict(pool);
        const known = await this.opts.redis.hkeys(key);
        const gone = known.filter((id) => !entries.has(id));
        if (gone.length) m.hdel(key, ...gone);
        for (const [id, e] of entries) m.hset(key, id, e.merged.state);
      }
      await m.exec();
      this.#redisOk();
    } catch (err) { this.#redisError(err); }
  }

  /** Handles a pushed verdict event from a peer: re-read that backend now. */
  onEvent(ev: ClusterEvent): void {
    if (ev.type === 'verdict' && ev.by !== this.opts.nodeId) void this.refresh({ pool: ev.pool, backendId: ev.backend });
  }

  /** Snapshot of all verdicts (admin API, tests). */
  snapshot(): Array<{ pool: string; backend: string; state: VerdictState; observers: number; downVotes: number; reason?: string; localDown: boolean }> {
    const out = [];
    for (const [pool, m] of this.#entries) for (const [id, e] of m) out.push({ pool, backend: id, ...e.merged, localDown: e.localDown });
    return out;
  }

  #absorb(e: Entry, fields: Record<string, string>): void {
    for (const [nodeId, json] of Object.entries(fields)) {
      if (nodeId === this.opts.nodeId) continue; // our own in-memory one is never older
      const o = parseObservation(json);
      if (!o) continue;
      const prev = e.obs.get(nodeId);
      if (!prev || prev.at <= o.at) e.obs.set(nodeId, o);
      e.ages.seen(nodeId, json, this.opts.clock.nowMs());
    }
  }

  #recompute(pool: string, backendId: string, e: Entry): void {
    const alive = this.isNodeAlive;
    const beating = this.#heartbeating;
    const self = this.opts.nodeId;
    const isNodeAlive = alive || beating
      ? (id: string) => id === self || ((!alive || alive(id)) && (!beating || beating.has(id)))
      : undefined;
    const now = this.opts.clock.nowMs();
    const merged = mergeVerdict(e.obs.values(), { rule: this.opts.cluster.health.verdict, ageMs: (o) => e.ages.ageMs(o.nodeId, now), freshMs: e.freshMs, isNodeAlive });
    const wasUp = e.merged.state !== 'down';
    const wasUnknown = e.merged.state === 'unknown';
    e.merged = merged;
    const up = merged.state !== 'down';
    if (up === wasUp) return;
    // Slow start only for a backend that was really down, not one first seen.
    e.upSinceMs = up && !wasUnknown ? this.opts.clock.nowMs() : null;
    this.#changed({ pool, backendId, up, verdict: merged });
  }

  #changed(c: VerdictChange): void {
    const { log, metrics, redis, keys, nodeId, clock } = this.opts;
    log.warn({ pool: c.pool, backend: c.backendId, verdict: c.up ? 'up' : 'down', observers: c.verdict.observers, downVotes: c.verdict.downVotes, reason: c.verdict.reason }, c.up ? 'backend verdict up' : 'backend verdict down');
    metrics?.backendUp.set({ pool: c.pool, backend: c.backendId }, c.up ? 1 : 0);
    metrics?.backendVerdictChangesTotal.inc({ pool: c.pool, backend: c.backendId, verdict: c.up ? 'up' : 'down' });
    const ev: ClusterEvent = { type: 'verdict', pool: c.pool, backend: c.backendId, up: c.up, by: nodeId, at: clock.wallMs() };
    redis.multi().hset(keys.verdict(c.pool), c.backendId, c.up ? 'up' : 'down').publish(keys.events(), JSON.stringify(ev)).exec()
      .then(() => this.#redisOk(), (err) => this.#redisError(err));
    for (const l of this.#listeners) {
      try { l(c); } catch (err) { log.error({ err }, 'verdict listener failed'); }
    }
    this.#routingChanged();
  }

  #redisOk(): void {
    if (!this.#redisFailing) return;
    this.#redisFailing = false;
    this.opts.log.info('health sync reaches redis again');
  }

  #redisError(err: unknown): void {
    this.opts.metrics?.redisErrorsTotal.inc({ purpose: 'state' });
    if (this.#redisFailing) return;
    this.#redisFailing = true;
    this.opts.log.warn({ err: (err as Error)?.message }, 'health sync cannot reach redis; routing on last known state');
  }
}
