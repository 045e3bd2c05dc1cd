/**
 * The effective backends of each pool as `wsha backends list` shows them:
 * the file config (when the caller has it) with the live changes applied,
 * plus the merged verdict and every node's latest check. Without a config,
 * the pools and backends come from the verdict tables the nodes write and
 * from the live changes.
 */
import type Redis from 'ioredis';
import type { Config } from '../../shared/config/schema';
import type { RedisKeys } from '../../shared/redis/keys';
import type { HealthObservation } from '../../shared/records';
import { readVerdicts, readVerdictPools } from '../health/read-verdicts';
import { readPoolChanges } from './pool-store';
import type { PoolOverlay } from './pool-overlay';

/** One backend row. */
export interface BackendListEntry {
  pool: string;
  backend: string;
  /** URL (null when only the verdict table names it and no config was given). */
  url: string | null;
  /** Effective weight (0 when disabled). */
  weight: number | null;
  /** `enabled`, `disabled`, or `removed` (a live removal; still listed until nodes drop it). */
  state: 'enabled' | 'disabled' | 'removed';
  /** `file` (config), `live` (added by `wsha backends add`) or `unknown` (no config given). */
  source: 'file' | 'live' | 'unknown';
  /** Merged verdict the nodes last wrote. */
  verdict: 'up' | 'down' | 'unknown';
  observations: HealthObservation[];
}

/** What `backends list` prints and what add/remove/... validate against. */
export interface BackendList {
  version: number;
  entries: BackendListEntry[];
  overlays: Record<string, PoolOverlay>;
  /** Pools known from the config, the verdict tables or the live changes. */
  pools: string[];
}

/** Reads the list for every pool (or one). Throws the ioredis error when Redis fails. */
export async function readBackendList(redis: Redis, keys: RedisKeys, config: Config | null, onlyPool?: string): Promise<BackendList> {
  const changes = await readPoolChanges(redis, keys);
  const tablePools = await readVerdictPools(redis, keys);
  const all = new Set<string>([...Object.keys(config?.pools ?? {}), ...(config ? [] : tablePools), ...(config ? [] : Object.keys(changes.pools))]);
  const pools = [...all].filter((p) => !onlyPool || p === onlyPool).sort();
  const verdicts = await readVerdicts(redis, keys, pools);
  const byKey = new Map(verdicts.map((v) => [`${v.pool}/${v.backend}`, v]));
  const entries: BackendListEntry[] = [];
  for (const pool of pools) {
    const overlay = changes.pools[pool];
    const seen = new Set<string>();
    const push = (backend: string, url: string | null, weight: number | null, source: BackendListEntry['source']) => {
      if (seen.has(backend)) return;
      seen.add(backend);
      const o = overlay?.backends[backend];
      const state = o?.removed ? 'removed' : o?.disabled ? 'disabled' : 'enabled';
      const v = byKey.get(`${pool}/${backend}`);
      const effWeight = state === 'disabled' ? 0 : (o?.url ? (o.weight ?? 1) : weight);
      entries.push({ pool, backend, url: o?.url ?? url, weight: effWeight, state, source, verdict: v?.verdict ?? 'unknown', observations: v?.observations ?? [] });
    };
    for (const b of config?.pools[pool]?.backends ?? []) push(b.id, b.url, b.weight, 'file');
    for (const [id, o] of Object.entries(overlay?.backends ?? {}).sort(([x], [y]) => x.localeCompare(y))) if (o.url) push(id, o.url, o.weight ?? 1, 'live');
    for (const v of verdicts) if (v.pool === pool) push(v.backend, null, null, config ? 'live' : 'unknown');
    for (const [id] of Object.entries(overlay?.backends ?? {})) push(id, null, null, config ? 'live' : 'unknown');
  }
  return { version: changes.version, entries, overlays: changes.pools, pools: [...new Set([...Object.keys(config?.pools ?? {}), ...tablePools, ...Object.keys(changes.pools)])].sort() };
}
