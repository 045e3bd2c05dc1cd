/**
 * Reads the status document of one cluster from Redis, using only the
 * documented key layout (shared/redis/keys.ts) and record shapes
 * (shared/records.ts). Works with or without the node config: with it,
 * VIPs and pools that never wrote a key yet are listed too, and VIP driver
 * and preempt come from it.
 */
import type Redis from 'ioredis';
import type { Config } from '../../shared/config/schema';
import { DEFAULTS } from '../../shared/config/defaults';
import type { RedisKeys } from '../../shared/redis/keys';
import { readMembers, type Member } from '../membership/members';
import { healthOf, warningsFor } from './assess';
import { countKeys } from './redis-scan';
import { discoverKeys, type Discover, type Discovered } from './discover';
import { STATUS_VERSION, type NodeStatus, type PoolStatus, type StatusDocument, type VipStatus } from './status-document';
import { readPools } from './collect-pools';
import { edgeWarnings, readEdgeAlerts } from './edge-alerts';

/** Inputs of collectStatus. */
export interface CollectOptions {
  redis: Redis;
  keys: RedisKeys;
  /** Printable Redis address for the document. */
  address: string;
  config?: Config | null;
  /** Wall clock, injectable for tests. */
  nowMs?: () => number;
  /** Counts keys matching a pattern; the admin server passes a cached one (session keys can be many). */
  countKeys?: typeof countKeys;
  /** Finds VIPs, pools and backends by their keys; the admin server passes a cached one. */
  discover?: Discover;
}

function fromMember(m: Member, now: number): NodeStatus {
  const hb = m.record;
  return {
    id: hb.id, alive: m.alive, address: hb.address ?? null, admin: hb.admin ?? null, role: m.alive ? hb.role ?? null : null,
    state: m.alive ? hb.state ?? 'unknown' : hb.state === 'stopping' ? 'stopped' : 'down',
    priority: hb.priority ?? null, heartbeatAgeMs: m.ageMs, version: hb.version ?? null,
    uptimeMs: m.alive && hb.startedAt ? Math.max(0, now - hb.startedAt) : null, connections: m.alive ? hb.connections ?? null : null,
    ready: m.alive ? hb.ready ?? null : null, drained: m.drained, vips: m.alive && Array.isArray(hb.vips) ? hb.vips : [],
    workers: m.alive && Array.isArray(hb.workers) ? hb.workers : [],
    denied: Array.isArray(hb.edge?.denied) ? hb.edge!.denied : [],
    ...(m.alive && typeof hb.peerProblem === 'string' ? { peerProblem: hb.peerProblem } : {}),
  };
}

/** Live and recently gone nodes: every heartbeat kept for cluster.heartbeat.forgetAfterMs, aged on Redis's clock. */
async function readNodes(o: CollectOptions, now: number): Promise<NodeStatus[]> {
  const timeoutMs = o.config?.cluster.heartbeat.timeoutMs ?? DEFAULTS.heartbeat.timeoutMs;
  const members = await readMembers(o.redis, o.keys, timeoutMs);
  return members.map((m) => fromMember(m, now)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function vipNames(o: CollectOptions, nodes: NodeStatus[], found: Discovered): string[] {
  const names = new Set<string>((o.config?.vips ?? []).map((v) => v.name));
  for (const n of found.vips) names.add(n);
  for (const node of nodes) for (const v of node.vips) names.add(v.name);
  return [...names].sort();
}

async function readVip(o: CollectOptions, name: string): Promise<VipStatus> {
  const [lease, ttl, rec] = await Promise.all([o.redis.get(o.keys.lease(name)), o.redis.pttl(o.keys.lease(name)), o.redis.hgetall(o.keys.vip(name))]);
  const cfg = o.config?.vips.find((v) => v.name === name);
  let owner: string | null = null;
  let epoch: number | null = rec.epoch ? Number(rec.epoch) : null;
  if (lease) {
    const at = lease.lastIndexOf(':');
    owner = at > 0 ? lease.slice(0, at) : lease;
    if (at > 0 && Number.isFinite(Number(lease.slice(at + 1)))) epoch = Number(lease.slice(at + 1));
  }
  const nul = (s: string | undefined) => (s === undefined || s === '' || s === 'null' ? null : s);
  return {
    name, owner, epoch,
    since: rec.since ? Number(rec.since) : null,
    reason: nul(rec.reason),
    previousOwner: nul(rec.previousOwner),
    preempt: cfg ? cfg.preempt : rec.preempt !== undefined ? rec.preempt === 'true' || rec.preempt === '1' : null,
    driver: cfg?.driver ?? nul(rec.driver),
    address: cfg?.address ?? nul(rec.address),
    leaseTtlMs: lease && ttl >= 0 ? ttl : null,
  };
}

/** Collects the whole status document. Throws whatever ioredis throws when Redis fails mid-way. */
export async function collectStatus(o: CollectOptions): Promise<StatusDocument> {
  const now = (o.nowMs ?? Date.now)();
  const t0 = performance.now();
  await o.redis.ping();
  const latencyMs = Math.round((performance.now() - t0) * 100) / 100;
  const [nodes, found] = await Promise.all([readNodes(o, now), (o.discover ?? discoverKeys)(o.redis, o.keys)]);
  const vips = await Promise.all(vipNames(o, nodes, found).map((n) => readVip(o, n)));
  // The lease is the truth about ownership; a heartbeat's role may lag it by one interval.
  for (const n of nodes) if (n.alive) n.role = vips.some((v) => v.owner === n.id) ? 'owner' : 'standby';
  const alive = new Set(nodes.filter((n) => n.alive).map((n) => n.id));
  const pools: PoolStatus[] = await readPools({ redis: o.redis, keys: o.keys, config: o.config ?? null, now, aliveNodes: alive, freshMs: freshWindowMs(o.config ?? null), found }, o.countKeys ?? countKeys);
  const base = { version: STATUS_VERSION, cluster: o.keys.cluster, generatedAt: now, redis: { address: o.address, latencyMs }, nodes, vips, pools };
  const warnings = [...warningsFor(base), ...edgeWarnings(await readEdgeAlerts(o, nodes), now)];
  return { ...base, health: healthOf(warnings), warnings };
}

/** How old an observation may be and still count, from the config or the defaults. */
export function freshWindowMs(config: Config | null, pool?: string): number {
  const intervals = config?.cluster.health.freshIntervals ?? DEFAULTS.health.freshIntervals;
  const interval = (pool ? config?.pools[pool]?.healthCheck.intervalMs : undefined) ?? DEFAULTS.health.intervalMs;
  return intervals * interval;
}
