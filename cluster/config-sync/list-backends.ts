/**
 * The effective backends of each pool as `wsha backends list` shows them:
 * what the running nodes say they route with (`pools:effective`, the view
 * most of them share), else the file config (when the caller has it) with
 * the live changes applied, plus the merged verdict and every node's latest
 * check, and the pools on which the nodes disagree. Without either, the
 * pools and backends come from the verdict tables and the live changes.
 */
import type Redis from 'ioredis';
import type { Config } from '../../shared/config/schema';
import type { RedisKeys } from '../../shared/redis/keys';
import type { HealthObservation } from '../../shared/records';
import { readVerdicts, readVerdictPools } from '../health/read-verdicts';
import { readPoolChanges } from './pool-store';
import type { PoolOverlay } from './pool-overlay';
import { agreePools, readEffectivePools, type PoolDisagreement } from './effective-pools';
import { readMembers } from '../membership/members';

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
  /** Pools known from the config, the nodes, the verdict tables or the live changes. */
  pools: string[];
  /** Running nodes whose published pools the list shows (empty: none published; the config or Redis tables are shown). */
  from: string[];
  /** Pools that the running nodes route differently. */
  disagreements: PoolDisagreement[];
}

/** The pools the running nodes route with (all published ones when none runs), agreed. */
async function nodesView(redis: Redis, keys: RedisKeys): Promise<{ from: string[] } & ReturnType<typeof agreePools>> {
  const [records, members] = await Promise.all([readEffectivePools(redis, keys), readMembers(redis, keys)]);
  const alive = new Set(members.filter((m) => m.alive).map((m) => m.record.id));
  const running = records.filter((r) => alive.has(r.node));
  const used = running.length ? running : records;
  return { from: used.map((r) => r.node), ...agreePools(used) };
}

/** Reads the list for every pool (or one). Throws the ioredis error when Redis fails. */
export async function readBackendList(redis: Redis, keys: RedisKeys, config: Config | null, onlyPool?: string): Promise<BackendList> {
  const changes = await readPoolChanges(redis, keys);
  const tablePools = await readVerdictPools(redis, keys);
  const nodes = await nodesView(redis, keys);
  const known = config !== null || nodes.from.length > 0;
  const all = new Set<string>([...Object.keys(nodes.pools), ...Object.keys(config?.pools ?? {}), ...(known ? [] : tablePools), ...(known ? [] : Object.keys(changes.pools))]);
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
    // In the file's order (a removed backend keeps its place), with what the nodes route when they say so.
    const routed = new Map((nodes.pools[pool]?.backends ?? []).map((b) => [b.id, b]));
    for (const b of config?.pools[pool]?.backends ?? []) { const n = routed.get(b.id); push(b.id, n?.url ?? b.url, n?.weight ?? b.weight, n?.source ?? 'file'); }
    for (const b of routed.values()) push(b.id, b.url, b.weight, b.source);
    for (const [id, o] of Object.entries(overlay?.backends ?? {}).sort(([x], [y]) => x.localeCompare(y))) if (o.url) push(id, o.url, o.weight ?? 1, 'live');
    for (const v of verdicts) if (v.pool === pool) push(v.backend, null, null, known ? 'live' : 'unknown');
    for (const [id] of Object.entries(overlay?.backends ?? {})) push(id, null, null, known ? 'live' : 'unknown');
  }
  const poolNames = [...new Set([...Object.keys(nodes.pools), ...Object.keys(config?.pools ?? {}), ...tablePools, ...Object.keys(changes.pools)])].sort();
  const disagreements = nodes.disagreements.filter((d) => !onlyPool || d.pool === onlyPool);
  return { version: changes.version, entries, overlays: changes.pools, pools: poolNames, from: nodes.from, disagreements };
}
