/**
 * Read side of shared health for the operator surface (`wsha status`,
 * `wsha backends list`): the merged verdict each node last wrote and every
 * node's latest observation, straight from Redis.
 */
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';
import type { HealthObservation } from '../../shared/records';
import { parseObservation } from './verdict';

/** One backend as the cluster sees it. */
export interface BackendHealthReport {
  pool: string;
  backend: string;
  /** Merged verdict last written by a node: `up`, `down` or `unknown` (no fresh observation yet). */
  verdict: 'up' | 'down' | 'unknown';
  /** Latest observation of each node that probes it, oldest node id first; `at` is wall-clock ms. */
  observations: HealthObservation[];
}

/** Upper bound of SCAN rounds, so a huge keyspace cannot hang the CLI. */
const MAX_SCAN_ROUNDS = 10_000;

/** Names of the pools that have a verdict table in Redis. */
export async function readVerdictPools(redis: Redis, keys: RedisKeys): Promise<string[]> {
  const prefix = keys.verdict('');
  const out = new Set<string>();
  let cursor = '0';
  for (let i = 0; i < MAX_SCAN_ROUNDS; i++) {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    for (const k of found) out.add(k.slice(prefix.length));
    cursor = next;
    if (cursor === '0') break;
  }
  return [...out].sort();
}

/**
 * Verdicts and observations of every backend of `pools` (all pools with a
 * verdict table when omitted), sorted by pool then backend. Throws the
 * ioredis error when Redis cannot be reached.
 */
export async function readVerdicts(redis: Redis, keys: RedisKeys, pools?: string[]): Promise<BackendHealthReport[]> {
  const names = pools ?? (await readVerdictPools(redis, keys));
  const tables = await Promise.all(names.map((p) => redis.hgetall(keys.verdict(p))));
  const out: BackendHealthReport[] = [];
  const pipe = redis.pipeline();
  names.forEach((pool, i) => {
    for (const [backend, v] of Object.entries(tables[i]).sort(([a], [b]) => a.localeCompare(b))) {
      out.push({ pool, backend, verdict: v === 'up' || v === 'down' ? v : 'unknown', observations: [] });
      pipe.hgetall(keys.health(pool, backend));
    }
  });
  if (out.length === 0) return out;
  const res = (await pipe.exec()) ?? [];
  res.forEach(([err, val], i) => {
    if (err || !val) return;
    out[i].observations = Object.values(val as Record<string, string>)
      .map(parseObservation).filter((o): o is HealthObservation => o !== null)
      .sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  });
  return out;
}
