/**
 * Bounded SCAN helpers for the status reader: the key space of a cluster
 * is small (one key per node, VIP, backend), but session keys can be many,
 * so every walk stops after a fixed number of round trips.
 */
import type Redis from 'ioredis';

/** Most SCAN round trips one walk may take. */
export const MAX_SCAN_ROUNDS = 200;
/** Keys asked for per SCAN round trip. */
export const SCAN_COUNT = 1000;

/** Keys matching `pattern` (a Redis glob), at most MAX_SCAN_ROUNDS round trips. */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const out = new Set<string>();
  let cursor = '0';
  for (let i = 0; i < MAX_SCAN_ROUNDS; i++) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
    for (const k of keys) out.add(k);
    cursor = next;
    if (cursor === '0') break;
  }
  return [...out];
}

/** Number of keys matching `pattern`; `capped` is true when the walk stopped early. */
export async function countKeys(redis: Redis, pattern: string): Promise<{ count: number; capped: boolean }> {
  let count = 0;
  let cursor = '0';
  for (let i = 0; i < MAX_SCAN_ROUNDS; i++) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
    count += keys.length;
    cursor = next;
    if (cursor === '0') return { count, capped: false };
  }
  return { count, capped: true };
}

/** The part of each key after `prefix` (keys without the prefix are dropped). */
export function suffixes(keys: readonly string[], prefix: string): string[] {
  return keys.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
}

/**
 * countKeys with a per-pattern cache of `ttlMs`: the live page refreshes
 * twice a second, and a full SCAN for session keys each time would load Redis.
 */
export function cachedCountKeys(ttlMs: number, now: () => number = Date.now): typeof countKeys {
  const cache = new Map<string, { at: number; value: { count: number; capped: boolean } }>();
  return async (redis, pattern) => {
    const hit = cache.get(pattern);
    if (hit && now() - hit.at < ttlMs) return hit.value;
    const value = await countKeys(redis, pattern);
    cache.set(pattern, { at: now(), value });
    return value;
  };
}
