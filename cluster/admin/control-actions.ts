/**
 * The admin API's POST actions (drain, undrain, failover) bound to the
 * control plane's functions in cluster/control/, acting on this node.
 * Failover without a VIP name hands over every VIP this node owns. Each
 * action is recorded in the cluster history with the token's configured name
 * and the caller's address.
 */
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../../shared/config/schema';
import type { RedisKeys } from '../../shared/redis/keys';
import { NotOwnerError } from '../../shared/errors';
import { failover } from '../control/failover';
import { drain, leasesOf, undrain } from '../control/drain';
import type { ActionContext, AdminProviders } from './admin-server';
import { adminActor } from '../events/actor';

/** The node's admin Redis connection, keys, config and logger. */
export interface ControlContext { redis: Redis; keys: RedisKeys; config: Config; log: Logger }

/** drain / undrain / failover providers for this node. */
export function controlActions(c: ControlContext): Pick<AdminProviders, 'drain' | 'undrain' | 'failover'> {
  const self = c.config.node.id;
  const by = (ctx: ActionContext) => adminActor(c.config.node.admin.tokenName, self, ctx.remoteAddress);
  const timing = { timeoutMs: c.config.cluster.handover.timeoutMs, heartbeatTimeoutMs: c.config.cluster.heartbeat.timeoutMs };
  return {
    drain: (ctx) => drain(c.redis, c.keys, self, { ...timing, by: by(ctx) }),
    undrain: (ctx) => undrain(c.redis, c.keys, self, by(ctx)),
    failover: async (req, ctx) => {
      const vips = req.vip ? [req.vip] : (await leasesOf(c.redis, c.keys, self)).map((l) => l.vip);
      if (vips.length === 0) throw new NotOwnerError('(any)', null);
      const results = [];
      for (const vip of vips) results.push(await failover(c.redis, c.keys, { vip, to: req.to, ...timing, reason: 'failover (admin api)', by: by(ctx) }));
      return req.vip ? results[0] : results;
    },
  };
}
