/**
 * Builds and starts the admin server of a node from its config: the
 * providers read the ProxyNode (snapshot), the control-plane agent (its
 * view, when one is passed) and the cluster status from Redis, on a Redis
 * connection of its own so that a slow status read never delays a lease.
 *
 * Called once from node/main.ts (composition root):
 *   stoppables.push(await startAdminServer({ config, logger, metrics, node, agent }));
 */
import type { Logger } from 'pino';
import type { Config } from '../../shared/config/schema';
import type { Metrics } from '../../shared/metrics';
import { createRedis, redisAddress } from '../../shared/redis/connect';
import { RedisKeys } from '../../shared/redis/keys';
import { RedisUnavailableError } from '../../shared/errors';
import { collectStatus } from '../../cluster/status/collect';
import { publishVipInfo } from '../../cluster/status/publish-vip-info';
import { cachedCountKeys } from '../../cluster/status/redis-scan';
import { cachedDiscover } from '../../cluster/status/discover';
import { AdminServer, type AdminProviders } from './admin-server';
import { controlActions } from './control-actions';

/** Session counts on the live page may be this old (they take a SCAN). */
const SESSION_COUNT_CACHE_MS = 10_000;
/** VIPs and pools that appear in Redis without being in this node's config show up within this time. */
const DISCOVERY_CACHE_MS = 5_000;

/** What the admin server needs of the ProxyNode. */
export interface AdminNode {
  snapshot(): { state: string; draining: boolean };
}

/** What it may use of the control-plane agent (cluster/cluster-agent.ts ClusterAgent fits). */
export interface AdminAgent {
  /** Ownership, readiness and Redis link as this node sees them, for /api/state. */
  snapshot?(): unknown;
  /** Readiness gate: config loaded, Redis reachable or last-known state usable. */
  readonly ready?: boolean;
  /** Planned handover through the agent's own command bus. */
  failover?(req: { vip?: string; to?: string }): Promise<unknown>;
  drain?(): Promise<unknown>;
  undrain?(): Promise<unknown>;
}

/** Inputs of startAdminServer, all from the composition root. */
export interface StartAdminOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  node: AdminNode;
  agent?: AdminAgent;
  /** Overrides node.admin.listen (tests). */
  listen?: string;
}

/** A running admin server; `stop()` closes it and its Redis connection. */
export interface RunningAdmin { server: AdminServer; address: string; token: string; stop(): Promise<void> }

/** Starts the admin API on node.admin.listen. Throws when the address cannot be bound. */
export async function startAdminServer(o: StartAdminOptions): Promise<RunningAdmin> {
  const { config, logger } = o;
  const log = logger.child({ component: 'admin' });
  const redis = createRedis(config.cluster.redis, 'state');
  redis.on('error', () => { /* status shows it; ioredis reconnects by itself */ });
  const keys = new RedisKeys(config.cluster.name);
  redis.connect().then(() => publishVipInfo(redis, keys, config.vips)).catch((err: Error) => log.warn({ err: err.message }, 'could not publish VIP facts for wsha status'));
  const address = redisAddress(config.cluster.redis);

  const sessionCounts = cachedCountKeys(SESSION_COUNT_CACHE_MS);
  const discover = cachedDiscover(DISCOVERY_CACHE_MS);
  const providers: AdminProviders = {
    state: () => ({ nodeId: config.node.id, cluster: config.cluster.name, node: o.node.snapshot(), agent: o.agent?.snapshot?.() ?? null, redis: { address, status: redis.status } }),
    ready: () => {
      const s = o.node.snapshot();
      if (s.state !== 'running' || s.draining) return { ready: false, reason: `node is ${s.draining ? 'draining' : s.state}` };
      if (o.agent && o.agent.ready === false) return { ready: false, reason: 'control plane not ready (see /api/state agent.readyProblem)' };
      return { ready: true };
    },
    clusterStatus: async () => {
      if (redis.status !== 'ready') throw new RedisUnavailableError(address);
      return collectStatus({ redis, keys, address, config, countKeys: sessionCounts, discover });
    },
    ...controlActions({ redis, keys, config, log }),
    // The agent's own methods reuse its command bus; the fallbacks open one per call.
    ...(o.agent?.failover ? { failover: (req: { vip?: string; to?: string }) => o.agent!.failover!(req) } : {}),
    ...(o.agent?.drain ? { drain: () => o.agent!.drain!() } : {}),
    ...(o.agent?.undrain ? { undrain: () => o.agent!.undrain!() } : {}),
  };
  const server = new AdminServer({ listen: o.listen ?? config.node.admin.listen, token: config.node.admin.token, metrics: o.metrics, providers, log });
  if (!config.node.admin.token) log.warn({ token: server.token }, 'node.admin.token is not set: generated a token for this run');
  try {
    await server.start();
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  return {
    server, address: server.address, token: server.token,
    stop: async () => { await server.close(); redis.disconnect(); },
  };
}
