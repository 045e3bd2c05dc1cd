/**
 * `wsha drain NODE` / `wsha undrain NODE`: maintenance mode. Drain first
 * checks that every VIP the node owns has an eligible target (else nothing
 * changes), then marks the node drained in Redis (the set survives
 * restarts, so a drained node that restarts does not grab a VIP), tells the
 * node at once, and hands each of its VIPs over, one result per VIP.
 * Undrain clears the mark.
 */
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';
import { DEFAULTS } from '../../shared/config/defaults';
import { HandoverError, NotFoundError } from '../../shared/errors';
import { readMembers } from '../membership/members';
import { parseLease, type LeaseValue } from '../vip/lease';
import { planHandover } from './preflight';
import { failover, recordAction, withBus, type FailoverResult } from './failover';
import type { CommandBus } from './command-bus';
import type { Actor } from '../../shared/history-event';

/** Options of drain() and undrain(). */
export interface DrainOptions {
  /** Deadline of each handover. @default cluster.handover.timeoutMs default */
  timeoutMs?: number;
  heartbeatTimeoutMs?: number;
  /** Who asked: the drain is recorded in the history (a refusal as an `admin` event); none: not recorded. */
  by?: Actor;
  /** A command bus to use instead of a fresh one (the CLI follows the clients with it). */
  bus?: CommandBus;
}

/** Leases currently held by `nodeId`, by VIP name (scans the lease keys of the cluster). */
export async function leasesOf(redis: Redis, keys: RedisKeys, nodeId: string): Promise<Array<{ vip: string; lease: LeaseValue }>> {
  const prefix = keys.lease('');
  const out: Array<{ vip: string; lease: LeaseValue }> = [];
  let cursor = '0';
  for (let i = 0; i < 10_000; i++) {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 200);
    for (const key of found) {
      const lease = parseLease(await redis.get(key));
      if (lease?.nodeId === nodeId) out.push({ vip: key.slice(prefix.length), lease });
    }
    cursor = next;
    if (cursor === '0') break;
  }
  return out.sort((a, b) => (a.vip < b.vip ? -1 : 1));
}

/** Drains `nodeId`: hands off every VIP it owns and keeps it from acquiring until undrain. */
export async function drain(redis: Redis, keys: RedisKeys, nodeId: string, opts: DrainOptions = {}): Promise<FailoverResult[]> {
  const at = Date.now();
  try {
    return await drainNode(redis, keys, nodeId, opts);
  } catch (err) {
    if (opts.by) await recordAction(redis, keys, { kind: 'admin', at, action: 'drain', target: nodeId, by: opts.by, ok: false, error: (err as Error).message });
    throw err;
  }
}

/** Marks `nodeId` drained; the change is recorded with who asked. */
async function markDrained(redis: Redis, keys: RedisKeys, nodeId: string, by: Actor | undefined): Promise<void> {
  const added = await redis.sadd(keys.drained(), nodeId);
  if (added && by) await recordAction(redis, keys, { kind: 'node-drained', node: nodeId, by });
}

async function drainNode(redis: Redis, keys: RedisKeys, nodeId: string, opts: DrainOptions): Promise<FailoverResult[]> {
  const hbTimeout = opts.heartbeatTimeoutMs ?? DEFAULTS.heartbeat.timeoutMs;
  const members = await readMembers(redis, keys, hbTimeout);
  const self = members.find((m) => m.record.id === nodeId);
  if (!self) throw new NotFoundError(`node ${nodeId}`);
  if (!self.alive) {
    // A node that is down owns nothing for long (its leases expire); mark it so it stays out after a restart.
    await markDrained(redis, keys, nodeId, opts.by);
    return [];
  }
  const owned = await leasesOf(redis, keys, nodeId);
  // Pre-flight every VIP before marking anything: all or nothing.
  const asIfDrained = members.map((m) => (m.record.id === nodeId ? { ...m, drained: true } : m));
  for (const { vip, lease } of owned) {
    const plan = planHandover(vip, lease, asIfDrained);
    if ('reason' in plan) throw new HandoverError(`cannot drain ${nodeId}: ${plan.reason}`);
  }
  await markDrained(redis, keys, nodeId, opts.by);
  const run = async (bus: CommandBus) => {
    await bus.request(nodeId, { op: 'drained', value: true }, 2000).catch(() => { /* the node reads the set at its next heartbeat */ });
    const results: FailoverResult[] = [];
    for (const { vip } of owned) {
      const current = parseLease(await redis.get(keys.lease(vip)));
      if (current?.nodeId !== nodeId) continue;
      results.push(await failover(redis, keys, { vip, timeoutMs: opts.timeoutMs, heartbeatTimeoutMs: hbTimeout, reason: 'drain' }, bus));
    }
    return results;
  };
  return opts.bus ? run(opts.bus) : withBus(redis, keys, run);
}

/** Ends maintenance of `nodeId`: it may acquire VIPs again (recorded with who asked, when it was drained). */
export async function undrain(redis: Redis, keys: RedisKeys, nodeId: string, by?: Actor): Promise<{ node: string; drained: false; wasDrained: boolean }> {
  const removed = await redis.srem(keys.drained(), nodeId);
  if (removed && by) await recordAction(redis, keys, { kind: 'node-undrained', node: nodeId, by });
  await withBus(redis, keys, (bus) => bus.request(nodeId, { op: 'drained', value: false }, 2000).catch(() => undefined));
  return { node: nodeId, drained: false, wasDrained: removed > 0 };
}
