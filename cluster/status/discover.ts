/**
 * Finds the VIPs, pools and backends a cluster has in Redis, in one SCAN
 * pass over the cluster's prefix (Redis has no index: every SCAN walks the
 * whole key space, session keys included, so one pass beats four). The
 * admin server caches the result for a few seconds.
 */
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';
import { SCAN_COUNT } from './redis-scan';

/** Most SCAN round trips of one discovery pass (five million keys at SCAN_COUNT). */
export const MAX_DISCOVERY_ROUNDS = 5000;

/** What one pass found. */
export interface Discovered {
  /** VIP names with a `vip:` or `lease:` key. */
  vips: string[];
  /** [pool, backend] pairs with a `health:` key. */
  observed: Array<[string, string]>;
  /** Pools with a `verdict:` table. */
  verdictPools: string[];
}

/** A discovery function (plain or cached). */
export type Discover = (redis: Redis, keys: RedisKeys) => Promise<Discovered>;

/** One SCAN pass over `wsha:v1:{cluster}:*`. */
export const discoverKeys: Discover = async (redis, keys) => {
  const vips = new Set<string>();
  const observed = new Map<string, [string, string]>();
  const verdictPools = new Set<string>();
  const p = { vip: keys.vip(''), lease: keys.lease(''), health: keys.health('', '').slice(0, -1), verdict: keys.verdict('') };
  let cursor = '0';
  for (let i = 0; i < MAX_DISCOVERY_ROUNDS; i++) {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${keys.prefix}*`, 'COUNT', SCAN_COUNT);
    for (const k of found) {
      if (k.startsWith(p.vip)) vips.add(k.slice(p.vip.length));
      else if (k.startsWith(p.lease)) vips.add(k.slice(p.lease.length));
      else if (k.startsWith(p.verdict)) verdictPools.add(k.slice(p.verdict.length));
      else if (k.startsWith(p.health)) {
        const rest = k.slice(p.health.length);
        const at = rest.indexOf(':');
        if (at > 0) observed.set(rest, [rest.slice(0, at), rest.slice(at + 1)]);
      }
    }
    cursor = next;
    if (cursor === '0') break;
  }
  return { vips: [...vips], observed: [...observed.values()], verdictPools: [...verdictPools] };
};

/** discoverKeys with its result kept for `ttlMs`. */
export function cachedDiscover(ttlMs: number, now: () => number = Date.now): Discover {
  let last: { at: number; value: Discovered } | null = null;
  return async (redis, keys) => {
    if (last && now() - last.at < ttlMs) return last.value;
    const value = await discoverKeys(redis, keys);
    last = { at: now(), value };
    return value;
  };
}
