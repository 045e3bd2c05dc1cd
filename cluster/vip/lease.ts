/**
 * VIP leases in Redis with fencing epochs: acquire, renew, release, takeover
 * and handover, each one Lua script (shared/redis/scripts/lease-*.lua) run
 * on the `lease` connection, which never queues a command while disconnected
 * and times out fast, so a renewal can never land after the lease expired.
 *
 * Lease acquisition, as the scripts see it:
 *
 *   standby                          Redis
 *      |-- lease-acquire(node,ttl) -->|  GET lease:{vip}
 *      |                              |  absent? INCR epoch:{vip} -> E
 *      |                              |          SET lease:{vip} "node:E" PX ttl
 *      |                              |          HSET vip:{vip} owner node epoch E ...
 *      |                              |          PUBLISH events {ownership}
 *      |<------- {1, "node:E"} -------|
 *      |   (owner; renews every renewIntervalMs with lease-renew "node:E")
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';

/** A parsed lease value "nodeId:epoch". */
export interface LeaseValue { nodeId: string; epoch: number }

/** Outcome of a lease script: `ok` with the lease now held, or the holder that stopped it (null when none). */
export type LeaseResult = { ok: true; lease: LeaseValue } | { ok: false; holder: LeaseValue | null };

const SCRIPT_NAMES = ['acquire', 'renew', 'release', 'takeover', 'handover'] as const;
type ScriptName = typeof SCRIPT_NAMES[number];
const SCRIPT_KEYS: Readonly<Record<ScriptName, number>> = { acquire: 3, renew: 1, release: 3, takeover: 3, handover: 3 };

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

function scriptDir(): string {
  // Compiled code runs from dist/cluster/vip; the build copies the scripts to dist/shared/redis/scripts.
  // A plain `tsc` build does not copy them, so fall back to the source folder beside dist/.
  const built = join(__dirname, '..', '..', 'shared', 'redis', 'scripts');
  if (existsSync(join(built, 'lease-acquire.lua'))) return built;
  return join(__dirname, '..', '..', '..', 'shared', 'redis', 'scripts');
}

let scriptCache: Record<ScriptName, string> | undefined;
function scripts(): Record<ScriptName, string> {
  if (!scriptCache) {
    const dir = scriptDir();
    const out = {} as Record<ScriptName, string>;
    for (const n of SCRIPT_NAMES) out[n] = readFileSync(join(dir, `lease-${n}.lua`), 'utf8');
    scriptCache = out;
  }
  return scriptCache;
}

type ScriptFn = (...args: Array<string | number>) => Promise<[number, string]>;

/** Lease operations of one node on one Redis connection (use the `lease` profile). */
export class LeaseClient {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
    const src = scripts();
    for (const n of SCRIPT_NAMES) {
      const cmd = `wshaLease${n[0].toUpperCase()}${n.slice(1)}`;
      if (!(cmd in redis)) redis.defineCommand(cmd, { numberOfKeys: SCRIPT_KEYS[n], lua: src[n] });
    }
  }

  #run(n: ScriptName, ...args: Array<string | number>): Promise<[number, string]> {
    const fn = (this.#redis as unknown as Record<string, ScriptFn>)[`wshaLease${n[0].toUpperCase()}${n.slice(1)}`];
    return fn.call(this.#redis, ...args);
  }

  #keys3(vip: string): string[] { return [this.#keys.lease(vip), this.#keys.epoch(vip), this.#keys.vip(vip)]; }

  static #result([ok, value]: [number, string]): LeaseResult {
    const parsed = parseLease(value);
    if (ok === 1 && parsed) return { ok: true, lease: parsed };
    return { ok: false, holder: parsed };
  }

  /**
   * Acquires a free lease with the next epoch; fails with the holder when
   * held. `minEpoch` is the highest epoch the caller has seen: the new epoch
   * is above it even if Redis lost its data (restart without persistence).
   */
  async acquire(vip: string, nodeId: string, ttlMs: number, reason: string, minEpoch = 0): Promise<LeaseResult> {
    return LeaseClient.#result(await this.#run('acquire', ...this.#keys3(vip), nodeId, ttlMs, Date.now(), reason, this.#keys.events(), vip, minEpoch));
  }

  /** Renews our lease if it is still exactly ours. */
  async renew(vip: string, lease: LeaseValue, ttlMs: number): Promise<LeaseResult> {
    return LeaseClient.#result(await this.#run('renew', this.#keys.lease(vip), formatLease(lease), ttlMs));
  }

  /** Releases our lease (compare then delete). `ok` false when it was not ours any more. */
  async release(vip: string, lease: LeaseValue, reason: string): Promise<LeaseResult> {
    return LeaseClient.#result(await this.#run('release', ...this.#keys3(vip), formatLease(lease), Date.now(), reason, this.#keys.events(), vip, lease.nodeId, lease.epoch));
  }

  /** Takes over the lease of a confirmed-dead owner (only if it still holds exactly `dead`, or nobody does). */
  async takeover(vip: string, dead: LeaseValue, nodeId: string, ttlMs: number, reason: string, minEpoch = dead.epoch): Promise<LeaseResult> {
    return LeaseClient.#result(await this.#run('takeover', ...this.#keys3(vip), formatLease(dead), nodeId, ttlMs, Date.now(), reason, this.#keys.events(), vip, dead.nodeId, Math.max(minEpoch, dead.epoch)));
  }

  /** Hands our lease to `target` with the next epoch (planned handover). */
  async handover(vip: string, lease: LeaseValue, target: string, ttlMs: number, reason: string): Promise<LeaseResult> {
    return LeaseClient.#result(await this.#run('handover', ...this.#keys3(vip), formatLease(lease), target, ttlMs, Date.now(), reason, this.#keys.events(), vip, lease.nodeId));
  }

  /** Reads the current lease holder (null when free). */
  async read(vip: string): Promise<LeaseValue | null> {
    return parseLease(await this.#redis.get(this.#keys.lease(vip)));
  }
}
