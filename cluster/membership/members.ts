/**
 * The membership view: every node's last heartbeat, its age on Redis's own
 * clock (TIME at the read minus the TIME the heartbeat script stamped), and
 * whether it is alive (younger than cluster.heartbeat.timeoutMs and not a
 * stopping node's last word) and drained. No host's wall clock is compared
 * with another's. `readMembers` is what the CLI and the agent both use.
 */
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';
import type { HeartbeatRecord } from '../../shared/records';
import { DEFAULTS } from '../../shared/config/defaults';
import type { Candidate } from '../vip/preemption';
import type { NodeFacts } from '../vip/placement';

/** One node as seen through Redis. */
export interface Member {
  record: HeartbeatRecord;
  /** Age of its last heartbeat in ms, on Redis's clock. */
  ageMs: number;
  /** Heartbeat no older than the timeout, and not a stopping node's last word. */
  alive: boolean;
  /** In the drained set, the persistent truth (a node's heartbeat only echoes it). */
  drained: boolean;
}

/** Parses a heartbeat JSON value; null when absent or malformed. Records of older versions get empty new fields. */
export function parseHeartbeat(raw: string | null): HeartbeatRecord | null {
  if (!raw) return null;
  try {
    const r = JSON.parse(raw) as HeartbeatRecord;
    if (typeof r?.id !== 'string' || typeof r.sentAt !== 'number') return null;
    if (typeof r.incarnation !== 'string') r.incarnation = '';
    if (!Array.isArray(r.peers)) r.peers = [];
    return r;
  } catch {
    return null;
  }
}

/** Builds the view from raw values (pure; the I/O is in readMembers). `stampedAt` holds each heartbeat's Redis time. */
export function buildMembers(records: ReadonlyArray<HeartbeatRecord | null>, stampedAt: ReadonlyMap<string, number>, drained: ReadonlySet<string>, redisNowMs: number, timeoutMs: number): Member[] {
  const out: Member[] = [];
  for (const record of records) {
    if (!record) continue;
    const ageMs = Math.max(0, redisNowMs - (stampedAt.get(record.id) ?? -Infinity));
    out.push({ record, ageMs, alive: ageMs <= timeoutMs && record.state !== 'stopping', drained: drained.has(record.id) });
  }
  return out.sort((a, b) => (a.record.id < b.record.id ? -1 : 1));
}

/** Redis TIME as milliseconds. */
export function redisTimeMs(t: [string, string]): number {
  return Number(t[0]) * 1000 + Math.floor(Number(t[1]) / 1000);
}

/**
 * Reads every node that has heartbeated within cluster.heartbeat.forgetAfterMs
 * (gone nodes still show, as down), with ages on Redis's clock.
 */
export async function readMembers(redis: Redis, keys: RedisKeys, timeoutMs: number = DEFAULTS.heartbeat.timeoutMs): Promise<Member[]> {
  const out = await redis.multi().time().zrange(keys.nodes(), '0', '-1', 'WITHSCORES').smembers(keys.drained()).exec();
  if (!out) throw new Error('membership read aborted');
  for (const [err] of out) if (err) throw err;
  const now = redisTimeMs(out[0]![1] as [string, string]);
  const flat = out[1]![1] as string[];
  const drainedIds = out[2]![1] as string[];
  if (flat.length === 0) return [];
  const stamped = new Map<string, number>();
  for (let i = 0; i + 1 < flat.length; i += 2) stamped.set(flat[i]!, Number(flat[i + 1]));
  const ids = [...stamped.keys()];
  const raws = await redis.mget(...ids.map((id) => keys.node(id)));
  return buildMembers(raws.map(parseHeartbeat), stamped, new Set(drainedIds), now, timeoutMs);
}

/** The policy's view of a member, with its priority for `vip` when one is named (node.vipPriorities). */
export function toCandidate(m: Member, vip?: string): Candidate {
  const priority = vip === undefined ? m.record.priority : m.record.vipPriorities?.[vip] ?? m.record.priority;
  return { id: m.record.id, priority, alive: m.alive, ready: m.record.ready, drained: m.drained };
}

/** What the placement policy needs of a member (cluster/vip/placement.ts). */
export function toNodeFacts(m: Member): NodeFacts {
  return {
    id: m.record.id, priority: m.record.priority, vipPriorities: m.record.vipPriorities, alive: m.alive, ready: m.record.ready, drained: m.drained,
    holds: m.record.vips.map((v) => v.name),
  };
}
