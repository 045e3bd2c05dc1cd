/**
 * The membership view: every node's last heartbeat, whether it is alive
 * (heartbeat fresher than cluster.heartbeat.timeoutMs) and whether it is
 * drained. `readMembers` is what the CLI and the agent both use.
 */
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';
import type { HeartbeatRecord } from '../../shared/records';
import { DEFAULTS } from '../../shared/config/defaults';
import type { Candidate } from '../vip/preemption';

/** One node as seen through Redis. */
export interface Member {
  record: HeartbeatRecord;
  /** now - sentAt, wall ms. */
  ageMs: number;
  /** Heartbeat no older than the timeout, and not a stopping node's last word. */
  alive: boolean;
  /** In the drained set, the persistent truth (a node's heartbeat only echoes it). */
  drained: boolean;
}

/** Parses a heartbeat JSON value; null when absent or malformed. */
export function parseHeartbeat(raw: string | null): HeartbeatRecord | null {
  if (!raw) return null;
  try {
    const r = JSON.parse(raw) as HeartbeatRecord;
    return typeof r?.id === 'string' && typeof r.sentAt === 'number' ? r : null;
  } catch {
    return null;
  }
}

/** Builds the view from raw values (pure; the I/O is in readMembers). */
export function buildMembers(records: ReadonlyArray<HeartbeatRecord | null>, drained: ReadonlySet<string>, nowMs: number, timeoutMs: number): Member[] {
  const out: Member[] = [];
  for (const record of records) {
    if (!record) continue;
    const ageMs = Math.max(0, nowMs - record.sentAt);
    out.push({ record, ageMs, alive: ageMs <= timeoutMs && record.state !== 'stopping', drained: drained.has(record.id) });
  }
  return out.sort((a, b) => (a.record.id < b.record.id ? -1 : 1));
}

/**
 * Reads every node that has heartbeated (keys expire a minute after the last
 * heartbeat, so recently gone nodes still show as down). `nowMs` is wall ms.
 */
export async function readMembers(redis: Redis, keys: RedisKeys, nowMs: number = Date.now(), timeoutMs: number = DEFAULTS.heartbeat.timeoutMs): Promise<Member[]> {
  const [ids, drainedIds] = await Promise.all([redis.zrange(keys.nodes(), '0', '-1'), redis.smembers(keys.drained())]);
  if (ids.length === 0) return [];
  const raws = await redis.mget(...ids.map((id) => keys.node(id)));
  return buildMembers(raws.map(parseHeartbeat), new Set(drainedIds), nowMs, timeoutMs);
}

/** The policy's view of a member. */
export function toCandidate(m: Member): Candidate {
  return { id: m.record.id, priority: m.record.priority, alive: m.alive, ready: m.record.ready, drained: m.drained };
}
