/**
 * Pools and backends of the status document: the merged verdict
 * (`verdict:{pool}`), each node's latest observation (`health:{pool}:{backend}`),
 * open connections summed over live nodes (`conns:{pool}`) and the number
 * of session-affinity records (`session:{pool}:*`), and the live pool
 * changes in force (`pools`), which also name backends added live.
 */
import type Redis from 'ioredis';
import type { Config } from '../../shared/config/schema';
import type { RedisKeys } from '../../shared/redis/keys';
import type { HealthObservation } from '../../shared/records';
import type { countKeys } from './redis-scan';
import type { Discovered } from './discover';
import type { BackendStatus, BackendView, PoolStatus } from './status-document';
import { readPoolChanges, type PoolChangesReport } from '../config-sync/pool-store';

/** What the pool reader needs: the connection, the keys, the config and the snapshot's time and live nodes. */
export interface PoolReadContext {
  redis: Redis;
  keys: RedisKeys;
  config: Config | null;
  /** Wall-clock ms of the snapshot. */
  now: number;
  /** Ids of nodes whose heartbeat is current; only their connection counts are summed. */
  aliveNodes: ReadonlySet<string>;
  /** Observations older than this are not fresh. */
  freshMs: number;
  /** Keys found by the discovery pass. */
  found: Discovered;
  /** Live pool changes (filled by readPools). */
  live?: PoolChangesReport;
}

/** Pool name -> backend ids, from the config and from every key that names a backend. */
async function discover(c: PoolReadContext): Promise<Map<string, Set<string>>> {
  const pools = new Map<string, Set<string>>();
  const add = (pool: string, backend?: string) => {
    if (!pools.has(pool)) pools.set(pool, new Set());
    if (backend) pools.get(pool)!.add(backend);
  };
  for (const [name, p] of Object.entries(c.config?.pools ?? {})) for (const b of p.backends) add(name, b.id);
  for (const [pool, backend] of c.found.observed) add(pool, backend);
  for (const [pool, overlay] of Object.entries(c.live?.pools ?? {})) for (const id of Object.keys(overlay.backends)) add(pool, id);
  for (const pool of c.found.verdictPools) {
    for (const b of await c.redis.hkeys(c.keys.verdict(pool))) add(pool, b);
  }
  return pools;
}

function toView(raw: string, nodeId: string, c: PoolReadContext): BackendView | null {
  try {
    const o = JSON.parse(raw) as HealthObservation;
    const ageMs = Math.max(0, c.now - Number(o.at));
    return { nodeId: o.nodeId ?? nodeId, up: o.up === true, ageMs, latencyMs: typeof o.latencyMs === 'number' ? o.latencyMs : null, reason: o.reason ?? null, fresh: ageMs <= c.freshMs };
  } catch {
    return null;
  }
}

async function readBackend(c: PoolReadContext, pool: string, id: string, verdicts: Record<string, string>, conns: Record<string, string>): Promise<BackendStatus> {
  const obs = await c.redis.hgetall(c.keys.health(pool, id));
  const views = Object.entries(obs).map(([node, raw]) => toView(raw, node, c)).filter((v): v is BackendView => v !== null).sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  const newest = views.filter((v) => v.latencyMs !== null).sort((a, b) => a.ageMs - b.ageMs)[0];
  let connections = 0;
  for (const [field, n] of Object.entries(conns)) {
    const bar = field.lastIndexOf('|');
    if (bar > 0 && field.slice(bar + 1) === id && c.aliveNodes.has(field.slice(0, bar))) connections += Number(n) || 0;
  }
  const v = verdicts[id];
  return { id, verdict: v === 'up' || v === 'down' ? v : 'unknown', connections, lastCheckLatencyMs: newest?.latencyMs ?? null, live: liveState(c, pool, id), views };
}

/** The live change in force for one backend: removed and disabled win over an added URL. */
function liveState(c: PoolReadContext, pool: string, id: string): BackendStatus['live'] {
  const o = c.live?.pools[pool]?.backends[id];
  if (!o) return null;
  if (o.removed) return 'removed';
  if (o.disabled) return 'disabled';
  return o.url !== undefined ? 'added' : null;
}

/** Reads every pool, sorted by name, backends sorted by id. */
export async function readPools(c: PoolReadContext, count: typeof countKeys): Promise<PoolStatus[]> {
  c.live = await readPoolChanges(c.redis, c.keys);
  const pools = await discover(c);
  const out: PoolStatus[] = [];
  for (const name of [...pools.keys()].sort()) {
    const [verdicts, conns, sessions] = await Promise.all([
      c.redis.hgetall(c.keys.verdict(name)),
      c.redis.hgetall(c.keys.conns(name)),
      count(c.redis, c.keys.sessionPattern(name)),
    ]);
    const ids = [...pools.get(name)!].sort();
    const backends = await Promise.all(ids.map((id) => readBackend(c, name, id, verdicts, conns)));
    out.push({ name, sessions: sessions.count, backends });
  }
  return out;
}
