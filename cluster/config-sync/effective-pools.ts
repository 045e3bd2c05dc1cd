/**
 * Each node publishes the pools it routes with right now (file config plus
 * live changes) in `pools:effective` (field = node id), so that
 * `wsha backends list` on any host, with or without the config file, shows
 * what the nodes really do, and says so when two nodes disagree (a node that
 * has not been reloaded, a different file on one host). Written at start,
 * after every pool change and after every reconnect; removed when the node
 * stops.
 */
import type Redis from 'ioredis';
import type { PoolConfig } from '../../shared/config/schema';
import type { RedisKeys } from '../../shared/redis/keys';
import type { PoolOverlay } from './pool-overlay';

/** One backend as a node routes to it. */
export interface EffectiveBackend {
  id: string;
  url: string;
  /** Effective weight (0 when disabled). */
  weight: number;
  /** `live` when its URL came from `wsha backends add`, else `file`. */
  source: 'file' | 'live';
  disabled: boolean;
}

/** Value of one field of `pools:effective`. */
export interface EffectivePoolsRecord {
  node: string;
  /** Wall-clock ms of the write. */
  at: number;
  /** Version of the live pool changes applied. */
  version: number;
  pools: Record<string, { balance: string; backends: EffectiveBackend[] }>;
}

/** The record of a node's effective pools. */
export function effectiveRecord(node: string, at: number, version: number, pools: Readonly<Record<string, PoolConfig>>, overlays: Readonly<Record<string, PoolOverlay>>): EffectivePoolsRecord {
  const out: EffectivePoolsRecord['pools'] = {};
  for (const [name, p] of Object.entries(pools)) {
    const o = overlays[name]?.backends ?? {};
    out[name] = { balance: p.balance, backends: p.backends.map((b) => ({ id: b.id, url: b.url, weight: b.weight, source: o[b.id]?.url ? 'live' : 'file', disabled: o[b.id]?.disabled === true })) };
  }
  return { node, at, version, pools: out };
}

/** Keeps this node's record in Redis. */
export class EffectivePoolsPublisher {
  #last: EffectivePoolsRecord | null = null;
  #stopped = false;
  readonly #onReady = () => { void this.#write(); };

  constructor(readonly redis: Redis, readonly keys: RedisKeys, readonly nodeId: string) {}

  /** Republishes after every reconnect (Redis may have restarted empty). */
  start(): void { this.redis.on('ready', this.#onReady); }

  /** The pools changed: publish them now (and again on the next reconnect if this write fails). */
  update(record: EffectivePoolsRecord): void {
    this.#last = record;
    void this.#write();
  }

  async #write(): Promise<void> {
    if (!this.#last || this.#stopped || this.redis.status !== 'ready') return;
    await this.redis.hset(this.keys.poolsEffective(), this.nodeId, JSON.stringify(this.#last)).catch(() => undefined);
  }

  /** Removes this node's record: a stopped node routes nothing. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.redis.off('ready', this.#onReady);
    if (this.redis.status === 'ready') await this.redis.hdel(this.keys.poolsEffective(), this.nodeId).catch(() => undefined);
  }
}

/** Every node's record; malformed ones are skipped. Throws the Redis error. */
export async function readEffectivePools(redis: Redis, keys: RedisKeys): Promise<EffectivePoolsRecord[]> {
  const raw = await redis.hgetall(keys.poolsEffective());
  const out: EffectivePoolsRecord[] = [];
  for (const json of Object.values(raw)) {
    try {
      const r = JSON.parse(json) as EffectivePoolsRecord;
      if (typeof r?.node === 'string' && r.pools && typeof r.pools === 'object') out.push(r);
    } catch { /* skipped */ }
  }
  return out.sort((a, b) => a.node.localeCompare(b.node));
}

/** Nodes that route a pool differently from the others: each group of nodes with the backends it routes to. */
export interface PoolDisagreement {
  pool: string;
  views: Array<{ nodes: string[]; backends: string }>;
}

const describe = (p: EffectivePoolsRecord['pools'][string] | undefined): string =>
  p ? p.backends.map((b) => `${b.id} ${b.url}${b.weight !== 1 ? ` weight ${b.weight}` : ''}`).join(', ') || '(no backends)' : '(no such pool)';

/**
 * Agrees the nodes' records pool by pool: the view most nodes share (ties:
 * the first node's) and every pool on which they differ.
 */
export function agreePools(records: readonly EffectivePoolsRecord[]): { pools: Record<string, EffectivePoolsRecord['pools'][string]>; disagreements: PoolDisagreement[] } {
  const names = new Set(records.flatMap((r) => Object.keys(r.pools)));
  const pools: Record<string, EffectivePoolsRecord['pools'][string]> = {};
  const disagreements: PoolDisagreement[] = [];
  for (const pool of [...names].sort()) {
    const groups = new Map<string, { nodes: string[]; view: EffectivePoolsRecord['pools'][string] | undefined }>();
    for (const r of records) {
      const key = describe(r.pools[pool]);
      const g = groups.get(key) ?? { nodes: [], view: r.pools[pool] };
      g.nodes.push(r.node);
      groups.set(key, g);
    }
    const ranked = [...groups.entries()].sort((a, b) => b[1].nodes.length - a[1].nodes.length);
    const best = ranked.find(([, g]) => g.view)?.[1].view;
    if (best) pools[pool] = best;
    if (groups.size > 1) disagreements.push({ pool, views: ranked.map(([backends, g]) => ({ nodes: g.nodes, backends })) });
  }
  return { pools, disagreements };
}
