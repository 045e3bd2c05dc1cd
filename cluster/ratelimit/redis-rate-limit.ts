/**
 * Cluster-wide token buckets in Redis (SharedRateLimit for routes with
 * `rateLimit.cluster: true`): one hash per bucket, updated by one Lua
 * script on Redis's clock. The command is never queued while Redis is
 * unreachable (the data plane would wait for nothing: it decides locally
 * after cluster.redis.rateLimitTimeoutMs anyway), so a down Redis costs a
 * rejected promise, not a backlog.
 */
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';
import type { SharedRateLimit } from '../../shared/ports/shared-rate-limit';
import { scriptSource } from '../../shared/redis/script-source';

const COMMAND = 'wshaRateTake';

type WithCommand = Redis & { [COMMAND](key: string, rate: number, burst: number): Promise<number> };

/** Token buckets shared by every node of a cluster. */
export class RedisRateLimit implements SharedRateLimit {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
    if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: scriptSource('rate-take') });
  }

  take(key: string, ratePerSec: number, burst: number): Promise<number> {
    if (this.#redis.status !== 'ready') return Promise.reject(new Error(`redis ${this.#redis.status}`));
    // Route names and addresses may hold anything; the key keeps them readable but unambiguous.
    const id = key.split('\u0000').map(encodeURIComponent).join('|');
    return (this.#redis as WithCommand)[COMMAND](this.#keys.rateBucket(id), ratePerSec, burst).then(Number);
  }
}
