/**
 * VIP leases in Redis with fencing epochs: acquire, assert (renew, or
 * re-assert at the same epoch), release, takeover and handover, each one Lua
 * script (shared/redis/scripts/lease-*.lua) run on the `lease` connection,
 * which never queues a command while disconnected and times out fast, so a
 * renewal can never land after the lease expired.
 *
 * With replica acknowledgement on (cluster.redis.replicaAck), a write counts
 * only when `WAIT 1` right after it says a replica has it too: an owner cut
 * off together with an old master cannot renew there while a promoted
 * replica hands the VIP to someone else.
 *
 * Lease acquisition, as the scripts see it:
 *
 *   standby                          Redis
 *      |-- lease-acquire(node,ttl) -->|  GET lease:{vip}
 *      |                              |  absent? INCR epoch:{vip} -> E
 *      |                              |          SET lease:{vip} "node:E" PX ttl
 *      |                              |          HSET vip:{vip} owner node epoch E ...
 *      |                              |          PUBLISH events {ownership}
 *      |-- WAIT 1 timeout ----------->|  (with replica acknowledgement)
 *      |<------- {1, "node:E", E} ----|
 *      |   (owner; asserts every renewIntervalMs with lease-assert "node:E")
 */
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';
import { scriptSource } from '../../shared/redis/script-source';

/** A parsed lease value "nodeId:epoch". */
export interface LeaseValue { nodeId: string; epoch: number }

/**
 * Outcome of a lease script: `ok` with the lease now held (`reasserted` when
 * assert brought back an expired or lost key), or why not: `held` (the
 * holder, or null when the epoch moved on or the lease was released; `epoch`
 * is the current counter) or `not-replicated` (written on the master, no
 * replica acknowledged it in time: it does not count).
 */
export type LeaseResult =
  | { ok: true; lease: LeaseValue; reasserted: boolean }
  | { ok: false; why: 'held'; holder: LeaseValue | null; epoch: number }
  | { ok: false; why: 'not-replicated'; written: LeaseValue | null };

/** What a standby reads: the holder, how long its key still lives, and the last recorded change. */
export interface LeaseReading {
  holder: LeaseValue | null;
  /** Remaining TTL of the lease key in ms (0 when absent). */
  ttlMs: number;
  /** Current epoch counter. */
  epoch: number;
  /** The VIP record: last owner ('' after a release) and the epoch released, if the last change was a release. */
  recordOwner: string | null;
  releasedEpoch: number | null;
}

const SCRIPT_NAMES = ['acquire', 'assert', 'release', 'takeover', 'handover'] as const;
type ScriptName = typeof SCRIPT_NAMES[number];

/** Parses "nodeId:epoch" (node ids never contain ':'); null for absent or malformed values. */
export function parseLease(v: string | null | undefined): LeaseValue | null {
  if (!v) return null;
  const i = v.lastIndexOf(':');
  if (i <= 0) return null;
  const epoch = Number(v.slice(i + 1));
  if (!Number.isInteger(epoch) || epoch <= 0) return null;
  return { nodeId: v.slice(0, i), epoch };
}

/** Formats a lease value. */
export function formatLease(l: LeaseValue): string { return `${l.nodeId}:${l.epoch}`; }

const commandName = (n: ScriptName): string => `wshaLease${n[0]!.toUpperCase()}${n.slice(1)}`;
type Reply = [number, string, number];

/** Replica acknowledgement of lease writes: whether the next write must wait (replica-watch.ts), and how long. */
export interface ReplicaAck { required: () => boolean; timeoutMs: number }

/** Lease operations of one node on one Redis connection (use the `lease` profile). */
export class LeaseClient {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #ack: ReplicaAck;

  constructor(redis: Redis, keys: RedisKeys, ack: ReplicaAck = { required: () => false, timeoutMs: 50 }) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ack = ack;
    for (const n of SCRIPT_NAMES) {
      if (!(commandName(n) in redis)) redis.defineCommand(commandName(n), { numberOfKeys: 3, lua: scriptSource(`lease-${n}`) });
    }
  }

  /** Whether writes wait for a replica right now. */
  get replicaAck(): boolean { return this.#ack.required(); }

  /** Runs a script, then (for writes that take effect) WAIT in the same round trip. */
  async #run(n: ScriptName, vip: string, args: Array<string | number>, write = true): Promise<LeaseResult> {
    const keys = [this.#keys.lease(vip), this.#keys.epoch(vip), this.#keys.vip(vip)];
    const p = this.#redis.pipeline();
    (p as unknown as Record<string, (...a: unknown[]) => void>)[commandName(n)]!(...keys, ...args);
    const waits = write && this.#ack.required();
    if (waits) p.call('WAIT', 1, this.#ack.timeoutMs);
    const out = await p.exec();
    if (!out) throw new Error('lease pipeline aborted');
    const [err, reply] = out[0]!;
    if (err) throw err;
    const [code, value, epoch] = reply as Reply;
    const parsed = parseLease(value);
    if (code === 0 || !parsed) return { ok: false, why: 'held', holder: parsed, epoch: Number(epoch) || 0 };
    if (waits) {
      const [werr, acked] = out[1]!;
      if (werr) throw werr;
      if (Number(acked) < 1) return { ok: false, why: 'not-replicated', written: parsed };
    }
    return { ok: true, lease: parsed, reasserted: code === 2 };
  }

  /**
   * Acquires a free lease with the next epoch. `minEpoch` is the highest
   * epoch the caller has seen: the new epoch is above it even if Redis lost
   * its data (restart without persistence).
   */
  acquire(vip: string, nodeId: string, ttlMs: number, reason: string, minEpoch = 0): Promise<LeaseResult> {
    return this.#run('acquire', vip, [nodeId, ttlMs, Date.now(), reason, this.#keys.events(), vip, minEpoch]);
  }

  /** Renews `lease` if it is still exactly it, or re-asserts it at its epoch when it expired and nobody took the VIP since. */
  assert(vip: string, lease: LeaseValue, ttlMs: number): Promise<LeaseResult> {
    return this.#run('assert', vip, [formatLease(lease), ttlMs, lease.epoch]);
  }

  /** Releases our lease (compare then delete). `ok` false when it was not ours any more. */
  release(vip: string, lease: LeaseValue, reason: string): Promise<LeaseResult> {
    return this.#run('release', vip, [formatLease(lease), Date.now(), reason, this.#keys.events(), vip, lease.nodeId, lease.epoch], false);
  }

  /** Takes over the lease of a proven-dead owner (only if it still holds exactly `dead`, or nobody does). */
  takeover(vip: string, dead: LeaseValue, nodeId: string, ttlMs: number, reason: string, minEpoch = dead.epoch): Promise<LeaseResult> {
    return this.#run('takeover', vip, [formatLease(dead), nodeId, ttlMs, Date.now(), reason, this.#keys.events(), vip, dead.nodeId, Math.max(minEpoch, dead.epoch)]);
  }

  /** Hands our lease to `target` with the next epoch (planned handover). */
  handover(vip: string, lease: LeaseValue, target: string, ttlMs: number, reason: string): Promise<LeaseResult> {
    return this.#run('handover', vip, [formatLease(lease), target, ttlMs, Date.now(), reason, this.#keys.events(), vip, lease.nodeId]);
  }

  /** Reads the lease, its remaining TTL, the epoch counter and the last recorded change, in one round trip. */
  async read(vip: string): Promise<LeaseReading> {
    const out = await this.#redis.pipeline()
      .get(this.#keys.lease(vip))
      .pttl(this.#keys.lease(vip))
      .get(this.#keys.epoch(vip))
      .hmget(this.#keys.vip(vip), 'owner', 'releasedEpoch')
      .exec();
    if (!out) throw new Error('lease read aborted');
    for (const [err] of out) if (err) throw err;
    const [owner, released] = out[3]![1] as [string | null, string | null];
    return {
      holder: parseLease(out[0]![1] as string | null),
      ttlMs: Math.max(0, Number(out[1]![1]) || 0),
      epoch: Number(out[2]![1]) || 0,
      recordOwner: owner,
      releasedEpoch: released ? Number(released) : null,
    };
  }
}
