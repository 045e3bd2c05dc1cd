/**
 * Live pool changes in Redis: the `pools` hash (pool -> PoolOverlay JSON),
 * the `pools:version` counter and a `pools` event on the events channel.
 * A change is an optimistic transaction (WATCH, read, MULTI, EXEC), retried
 * a few times when two operators change pools at the same moment, so two
 * changes never overwrite each other.
 *
 *   CLI                                  Redis
 *    |-- WATCH pools pools:version -------->|
 *    |-- HGET pools POOL, GET version ----->|
 *    |   (apply the change, validate)       |
 *    |-- MULTI SET version v+1; HSET pools; |
 *    |   PUBLISH events {pools, v+1};       |
 *    |   history-append {pool-change}; EXEC >|  nil: someone else won, retry
 */
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';
import type { BackendConfig } from '../../shared/config/schema';
import type { ClusterEvent, PoolChange } from '../../shared/records';
import { PoolChangeError } from '../../shared/errors';
import { applyChange, emptyOverlay, parseOverlay, type PoolOverlay } from './pool-overlay';
import type { Actor } from '../../shared/history-event';
import { appendArgs, completeEvent, queueAppend, withAppendScript } from '../events/history-append';

/** All live pool changes of a cluster. */
export interface PoolChangesReport {
  /** Value of `pools:version` (0 when nothing ever changed). */
  version: number;
  /** Pool -> its overlay (backend overrides and recent history). */
  pools: Record<string, PoolOverlay>;
}

/** Attempts of one change before giving up under contention. */
const MAX_ATTEMPTS = 10;

/** Reads every pool overlay and the version (one round trip). Throws on Redis errors. */
export async function readPoolChanges(redis: Redis, keys: RedisKeys): Promise<PoolChangesReport> {
  const res = (await redis.pipeline().get(keys.poolsVersion()).hgetall(keys.pools()).exec()) ?? [];
  for (const [err] of res) if (err) throw err;
  const version = Number(res[0]?.[1] ?? 0) || 0;
  const pools: Record<string, PoolOverlay> = {};
  for (const [pool, json] of Object.entries((res[1]?.[1] ?? {}) as Record<string, string>)) {
    const o = parseOverlay(json);
    if (o) pools[pool] = o;
  }
  return { version, pools };
}

/** What an operator asks for. */
export interface PoolChangeRequest {
  pool: string;
  op: PoolChange['op'];
  backendId: string;
  url?: string;
  /** Who asked (user@host or node id), for history. */
  by: string;
  /** Who asked, as the cluster history records it (the change and its record are one transaction). */
  actor?: Actor;
}

/**
 * Stores one change and pushes it; returns the change with its version.
 * `base` is the pool's file backends when the caller knows them; `knownIds`
 * the backends the nodes report (verdict table) when it does not. Throws
 * NotFoundError / PoolChangeError (nothing changed) or Redis errors.
 */
export async function writePoolChange(
  redis: Redis, keys: RedisKeys, req: PoolChangeRequest,
  ctx: { base: readonly BackendConfig[] | null; knownIds?: ReadonlySet<string>; nowWallMs: number },
): Promise<PoolChange> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    await redis.watch(keys.pools(), keys.poolsVersion());
    let committed = false;
    try {
      const [json, v] = await Promise.all([redis.hget(keys.pools(), req.pool), redis.get(keys.poolsVersion())]);
      const version = (Number(v) || 0) + 1;
      const change: PoolChange = { version, pool: req.pool, op: req.op, backendId: req.backendId, at: ctx.nowWallMs, by: req.by };
      if (req.url !== undefined) change.url = req.url;
      const next = applyChange(parseOverlay(json) ?? emptyOverlay(), change, ctx.base, ctx.knownIds);
      const ev: ClusterEvent = { type: 'pools', version, change };
      const multi = withAppendScript(redis).multi()
        .set(keys.poolsVersion(), String(version))
        .hset(keys.pools(), req.pool, JSON.stringify(next))
        .publish(keys.events(), JSON.stringify(ev));
      const by: Actor = req.actor ?? { name: req.by, via: 'cli', host: '' };
      queueAppend(multi, appendArgs(keys, JSON.stringify(completeEvent({ kind: 'pool-change', pool: req.pool, backend: req.backendId, op: req.op, ...(req.url !== undefined ? { url: req.url } : {}), version, by }, null, ctx.nowWallMs))));
      const res = await multi.exec();
      committed = true;
      if (res !== null) return change;
    } finally {
      if (!committed) await redis.unwatch().catch(() => undefined);
    }
  }
  throw new PoolChangeError(`pool ${req.pool} changed concurrently ${MAX_ATTEMPTS} times; try again`);
}
