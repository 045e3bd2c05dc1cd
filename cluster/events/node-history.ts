/**
 * Everything a node process contributes to the cluster history, built once by
 * the composition root (node/main.ts) and started and stopped with the node:
 *
 * - the recorder (history-recorder.ts) on a Redis connection of its own, so
 *   that a batch of buffered events never delays a lease or a health write;
 *   the ClusterAgent gets it as `history` (ownership, handovers, membership,
 *   Redis link);
 * - backend verdict changes of this node's merge (recorded once for the
 *   cluster: the first node to merge a change writes it);
 * - config reloads, accepted or rejected with every problem;
 * - refusals per minute (refusal-window.ts), from the counters the data
 *   plane keeps for /metrics anyway (handshake failures, access denials),
 *   summed over the node's processes as a scrape sums them;
 * - the effective pools (effective-pools.ts) and connection samples
 *   (connection-sampler.ts) that `wsha backends list` and the live page read.
 */
import type Redis from 'ioredis';
import type { Config } from '../../shared/config/schema';
import type { Logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import { systemClock, type Clock } from '../../shared/clock';
import { RedisKeys } from '../../shared/redis/keys';
import { createRedis } from '../../shared/redis/connect';
import { ConfigError } from '../../shared/errors';
import { DEFAULTS } from '../../shared/config/defaults';
import type { HealthSync, VerdictChange } from '../health/health-sync';
import type { ConfigSync } from '../config-sync/config-sync';
import { EffectivePoolsPublisher, effectiveRecord } from '../config-sync/effective-pools';
import { HistoryRecorder } from './history-recorder';
import { ConnectionSampler } from './connection-sampler';
import { RefusalWindow } from './refusal-window';
import type { HistoryPort } from './history-port';

/** What the node history reads from the rest of the node. */
export interface NodeHistoryOptions {
  config: Config;
  log: Logger;
  metrics: Metrics;
  clock?: Clock;
  /** Open client connections right now (sampled for the live page). */
  connections: () => number;
  /** A connection to use instead of a new one (tests). */
  redis?: Redis;
  /**
   * The named metrics as prom-client JSON, one array per process (the control process and each worker),
   * their collectors run: where the refusals are counted. Default: this process's `metrics` alone.
   */
  metricsJson?: (names: readonly string[]) => Promise<unknown[][]>;
}

/** How many observers' views a verdict event lists at most (a large cluster stays one readable line). */
const MAX_VIEWS = 16;

/** The history side of one node (see the file comment). */
export class NodeHistory {
  readonly recorder: HistoryRecorder;
  readonly keys: RedisKeys;
  readonly #o: NodeHistoryOptions;
  readonly #redis: Redis;
  readonly #own: boolean;
  readonly #pools: EffectivePoolsPublisher;
  readonly #sampler: ConnectionSampler;
  readonly #refusals: RefusalWindow;
  #stopped = false;

  constructor(o: NodeHistoryOptions) {
    this.#o = o;
    const { config, metrics } = o;
    const clock = o.clock ?? systemClock;
    const nodeId = config.node.id;
    this.keys = new RedisKeys(config.cluster.name);
    this.#own = !o.redis;
    this.#redis = o.redis ?? createRedis(config.cluster.redis, 'state');
    const log = o.log.child({ component: 'history' });
    const history = config.cluster.history;
    this.recorder = new HistoryRecorder({ redis: this.#redis, keys: this.keys, nodeId, history, clock, log, metrics });
    this.#pools = new EffectivePoolsPublisher(this.#redis, this.keys, nodeId);
    this.#sampler = new ConnectionSampler({ redis: this.#redis, keys: this.keys, nodeId, history, clock, connections: o.connections });
    const json = o.metricsJson ?? (async (names: readonly string[]) => [await metrics.json(names) as unknown[]]);
    // Only the two counters, not a whole scrape: a scrape's process metrics and the open-tunnel gauge cost per open
    // socket in every worker (16-18 µs per idle tunnel, once a minute: the one idle cost of a worker that grew with its tunnels).
    this.#refusals = new RefusalWindow(this.recorder, async () => refusalCounts(await json(REFUSAL_METRIC_NAMES)), clock, DEFAULTS.history.refusalWindowMs);
  }

  /** Where the agent and the rest of the node record events. */
  get port(): HistoryPort { return this.recorder; }

  /** Connects (when the connection is its own) and starts every loop; never waits for Redis. */
  start(): void {
    if (this.#own) {
      this.#redis.on('error', () => { /* the recorder buffers; ioredis reconnects by itself */ });
      this.#redis.connect().catch(() => { /* retried by ioredis; events wait in the buffer */ });
    }
    this.recorder.start();
    this.#pools.start();
    this.#sampler.start();
    this.#refusals.start();
  }

  /** Follows the pools this node routes with: published for `wsha backends list` now and after every change. */
  followPools(sync: ConfigSync): void {
    const publish = () => this.#pools.update(effectiveRecord(this.#o.config.node.id, Date.now(), sync.version, sync.pools, sync.overlays));
    sync.onPools(publish);
    publish();
  }

  /** Records the verdict changes of this node's merge, with every observer's latest view. */
  followHealth(health: HealthSync): void {
    health.onChange((c) => this.verdict(c, health.observations(c.pool, c.backendId)));
  }

  /** A merged verdict changed on this node: recorded once for the cluster (the first node to merge it writes it). */
  verdict(c: VerdictChange, views: ReadonlyArray<{ nodeId: string; up: boolean; reason?: string }>): void {
    const v = c.verdict;
    this.recorder.record({
      kind: 'verdict', node: null, pool: c.pool, backend: c.backendId, up: c.up, observers: v.observers, downVotes: v.downVotes,
      ...(v.reason ? { reason: v.reason } : {}),
      views: views.slice(0, MAX_VIEWS).map((o) => ({ node: o.nodeId, up: o.up, ...(o.reason ? { reason: o.reason } : {}) })),
    }, { subject: `verdict:${c.pool}/${c.backendId}`, state: c.up ? 'up' : 'down' });
  }

  /** The outcome of a SIGHUP reload: accepted, or rejected with every problem the validation found. */
  configReload(err: unknown): void {
    const errors = err === null ? [] : err instanceof ConfigError ? (err.problems.length ? [...err.problems] : [err.message]) : [(err as Error)?.message ?? String(err)];
    this.recorder.record({ kind: 'config-reload', ok: err === null, errors });
  }

  /** Writes what is buffered (bounded in time), stops the loops, removes this node's pools record. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#sampler.stop();
    await this.#refusals.stop();
    await this.#pools.stop();
    await this.recorder.stop();
    if (this.#own) this.#redis.disconnect();
  }
}

/** The counters whose growth is a refusal, and the prefix of their reasons in a `refusals` event. */
const REFUSAL_METRICS: Readonly<Record<string, string>> = { wsha_handshake_failures_total: '', wsha_access_denied_total: 'access-' };
/** The metrics the refusal window reads. */
export const REFUSAL_METRIC_NAMES: readonly string[] = Object.freeze(Object.keys(REFUSAL_METRICS));

/** Cumulative refusals by reason, summed over the processes' metrics (prom-client JSON) as a scrape sums them. */
export function refusalCounts(processes: readonly unknown[][]): Map<string, number> {
  const out = new Map<string, number>();
  for (const metricsOfOne of processes) {
    for (const m of metricsOfOne as Array<{ name?: string; values?: Array<{ labels?: Record<string, unknown>; value?: number }> }>) {
      const prefix = m?.name !== undefined ? REFUSAL_METRICS[m.name] : undefined;
      if (prefix === undefined) continue;
      for (const v of m.values ?? []) {
        const reason = `${prefix}${String(v.labels?.reason ?? 'other')}`;
        out.set(reason, (out.get(reason) ?? 0) + (Number(v.value) || 0));
      }
    }
  }
  return out;
}
