/**
 * Each node writes the static facts of its VIPs (driver, address, preempt)
 * into the `vip:{name}` hash at start, beside the ownership fields the
 * lease scripts keep (owner, epoch, since, reason, previousOwner), so that
 * `wsha status --redis URL --cluster NAME` can show them without the
 * config file. Only these three fields are written; nothing is deleted.
 */
import type Redis from 'ioredis';
import type { VipConfig } from '../../shared/config/schema';
import type { RedisKeys } from '../../shared/redis/keys';

/** Writes driver, address and preempt of every VIP; best effort (the status falls back to nulls). */
export async function publishVipInfo(redis: Redis, keys: RedisKeys, vips: readonly VipConfig[]): Promise<void> {
  if (vips.length === 0) return;
  const multi = redis.multi();
  for (const v of vips) multi.hset(keys.vip(v.name), 'driver', v.driver, 'address', v.address, 'preempt', String(v.preempt));
  await multi.exec();
}
