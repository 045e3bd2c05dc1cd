/**
 * Read side of session affinity for the operator surface (`wsha sessions`,
 * `wsha status`): how many sessions each pool holds and on which backends,
 * and a sample of them with their remaining TTL. Scans are bounded, so a
 * keyspace of millions of sessions cannot hang the CLI.
 */
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';

/** Sessions of one pool. */
export interface PoolSessionCounts {
  pool: string;
  /** Session records found (up to the scan limit). */
  total: number;
  /** Backend id -> sessions mapped to it. */
  byBackend: Record<string, number>;
  /** True when the scan stopped at its limit: the numbers are a lower bound. */
  truncated: boolean;
}

/** One session record. */
export interface SessionRecord {
  pool: string;
  /** The session key (cookie, header or query value, or client address). */
  key: string;
  backend: string;
  /** Remaining TTL in ms (-1: no TTL). */
  ttlMs: number;
}

/** Default most session records read by one call. */
export const DEFAULT_SESSION_SCAN_LIMIT = 100_000;
const PIPELINE_BATCH = 1000;

/** Session keys of one pool (or of all pools), up to `limit`. */
async function scanSessionKeys(redis: Redis, keys: RedisKeys, pool: string | undefined, limit: number): Promise<{ found: string[]; truncated: boolean }> {
  const pattern = pool ? keys.sessionPattern(pool) : `${keys.session('', '').slice(0, -1)}*`;
  const found: string[] = [];
  let cursor = '0';
  for (let round = 0; round < 100_000; round++) {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    for (const k of batch) { if (found.length >= limit) return { found, truncated: true }; found.push(k); }
    cursor = next;
    if (cursor === '0') break;
  }
  return { found, truncated: false };
}

/** Splits a session key into pool and session key (pool names never contain ':'). */
function splitKey(keys: RedisKeys, full: string): { pool: string; key: string } {
  const rest = full.slice(keys.session('', '').length - 1);
  const at = rest.indexOf(':');
  return { pool: rest.slice(0, at), key: rest.slice(at + 1) };
}

/** Reads up to `limit` session records (with backend and TTL), sorted by pool then key. */
export async function readSessions(redis: Redis, keys: RedisKeys, opts: { pool?: string; limit?: number } = {}): Promise<{ sessions: SessionRecord[]; truncated: boolean }> {
  const { found, truncated } = await scanSessionKeys(redis, keys, opts.pool, opts.limit ?? DEFAULT_SESSION_SCAN_LIMIT);
  const sessions: SessionRecord[] = [];
  for (let i = 0; i < found.length; i += PIPELINE_BATCH) {
    const chunk = found.slice(i, i + PIPELINE_BATCH);
    const p = redis.pipeline();
    for (const k of chunk) p.get(k).pttl(k);
    const res = (await p.exec()) ?? [];
    chunk.forEach((k, j) => {
      const backend = res[2 * j]?.[1] as string | null;
      if (backend === null || backend === undefined) return; // expired between SCAN and GET
      sessions.push({ ...splitKey(keys, k), backend, ttlMs: Number(res[2 * j + 1]?.[1] ?? -1) });
    });
  }
  sessions.sort((a, b) => a.pool.localeCompare(b.pool) || a.key.localeCompare(b.key));
  return { sessions, truncated };
}

/** Session counts per pool and backend, sorted by pool. */
export async function readSessionCounts(redis: Redis, keys: RedisKeys, opts: { pool?: string; limit?: number } = {}): Promise<PoolSessionCounts[]> {
  const { sessions, truncated } = await readSessions(redis, keys, opts);
  const byPool = new Map<string, PoolSessionCounts>();
  if (opts.pool) byPool.set(opts.pool, { pool: opts.pool, total: 0, byBackend: {}, truncated });
  for (const s of sessions) {
    let c = byPool.get(s.pool);
    if (!c) { c = { pool: s.pool, total: 0, byBackend: {}, truncated }; byPool.set(s.pool, c); }
    c.total++;
    c.byBackend[s.backend] = (c.byBackend[s.backend] ?? 0) + 1;
  }
  return [...byPool.values()].sort((a, b) => a.pool.localeCompare(b.pool));
}
