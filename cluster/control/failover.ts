/**
 * `wsha failover --vip NAME [--to NODE]` and the admin API's failover: the
 * pre-flight (preflight.ts) on the membership view, then one `handover`
 * request to the owner, which runs the make-before-break sequence drawn in
 * cluster/vip/handover.ts and answers with what happened.
 */
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';
import { DEFAULTS } from '../../shared/config/defaults';
import { HandoverError } from '../../shared/errors';
import { readMembers } from '../membership/members';
import { parseLease } from '../vip/lease';
import { planHandover } from './preflight';
import { CommandBus } from './command-bus';
import type { Actor } from '../../shared/history-event';
import { appendEvent } from '../events/history-append';

/** What a planned handover did. */
export interface FailoverResult {
  vip: string;
  oldOwner: string;
  newOwner: string;
  /** The new fencing epoch. */
  epoch: number;
  tookMs: number;
  /** Make-before-break overlap (both listening), measured on the old owner. */
  overlapMs?: number;
  /** WebSocket clients the old owner is closing with 1012. */
  closing?: number;
}

/** Options of failover(). */
export interface FailoverOptions {
  vip: string;
  to?: string;
  /** Whole handover deadline. @default cluster.handover.timeoutMs default */
  timeoutMs?: number;
  /** Heartbeat timeout used to judge nodes alive. @default cluster.heartbeat.timeoutMs default */
  heartbeatTimeoutMs?: number;
  /** Recorded as the reason of the ownership change. @default failover */
  reason?: string;
  /** Who asked (an operator's failover is recorded in the history with its outcome); none: not recorded here. */
  by?: Actor;
}

/** Runs `fn` with a command bus on a fresh subscriber connection duplicated from `redis`. */
export async function withBus<T>(redis: Redis, keys: RedisKeys, fn: (bus: CommandBus) => Promise<T>): Promise<T> {
  const sub = redis.duplicate({ lazyConnect: true, enableOfflineQueue: true });
  try {
    await sub.connect();
    const bus = new CommandBus(redis, sub, keys, `ctl-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
    await bus.start();
    try { return await fn(bus); } finally { await bus.close(); }
  } finally {
    sub.disconnect();
  }
}

/**
 * Moves one VIP to another node without refusing a client. Throws
 * HandoverError with the reason when the pre-flight fails (nothing moved),
 * when the target cannot prepare (nothing moved), or on timeout.
 */
export async function failover(redis: Redis, keys: RedisKeys, opts: FailoverOptions, bus?: CommandBus): Promise<FailoverResult> {
  if (!opts.by) return handOver(redis, keys, opts, bus);
  const by = opts.by;
  const at = Date.now();
  try {
    const r = await handOver(redis, keys, opts, bus);
    await recordAction(redis, keys, { kind: 'admin', at, action: 'failover', target: opts.vip, by, ok: true, detail: { to: r.newOwner, from: r.oldOwner, epoch: r.epoch, tookMs: r.tookMs, closing: r.closing ?? null } });
    return r;
  } catch (err) {
    await recordAction(redis, keys, { kind: 'admin', at, action: 'failover', target: opts.vip, by, ok: false, error: (err as Error).message, ...(opts.to ? { detail: { to: opts.to } } : {}) });
    throw err;
  }
}

/** Records an operator action in the history; a failed write never fails the action it describes. */
export async function recordAction(redis: Redis, keys: RedisKeys, e: Parameters<typeof appendEvent>[2]): Promise<void> {
  await appendEvent(redis, keys, e).catch(() => undefined);
}

async function handOver(redis: Redis, keys: RedisKeys, opts: FailoverOptions, bus?: CommandBus): Promise<FailoverResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULTS.handover.timeoutMs;
  const [members, raw] = await Promise.all([
    readMembers(redis, keys, opts.heartbeatTimeoutMs ?? DEFAULTS.heartbeat.timeoutMs),
    redis.get(keys.lease(opts.vip)),
  ]);
  const plan = planHandover(opts.vip, parseLease(raw), members, opts.to);
  if ('reason' in plan) throw new HandoverError(plan.reason);
  const run = (b: CommandBus) => b.request(plan.owner, { op: 'handover', vip: opts.vip, to: plan.target, epoch: plan.epoch, reason: opts.reason ?? 'failover' }, timeoutMs);
  const result = (bus ? await run(bus) : await withBus(redis, keys, run)) as FailoverResult;
  if (!result || typeof result.epoch !== 'number') throw new HandoverError(`owner ${plan.owner} gave no result for the handover of ${opts.vip}`);
  return result;
}
