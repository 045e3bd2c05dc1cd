/**
 * Builds and starts the admin server of a node from its config: the
 * providers read the data plane (DataPlane port: status and snapshot), the control-plane agent (its
 * view, when one is passed) and the cluster status from Redis, on a Redis
 * connection of its own so that a slow status read never delays a lease.
 *
 * Called once from cluster/node-process/run-node.ts (composition root):
 *   await startAdminServer({ config, logger, metrics, node: fleet, agent })
 */
import type { Logger } from 'pino';
import type { Config } from '../../shared/config/schema';

import { createRedis, redisAddress } from '../../shared/redis/connect';
import { RedisKeys } from '../../shared/redis/keys';
import { RedisUnavailableError } from '../../shared/errors';
import { collectStatus } from '../status/collect';
import { publishVipInfo } from '../status/publish-vip-info';
import { cachedCountKeys } from '../status/redis-scan';
import { cachedDiscover } from '../status/discover';
import { AdminServer, type ActionContext, type AdminProviders, type MetricsSource } from './admin-server';
import { historyProvider } from './history-api';
import { adminActor } from '../events/actor';
import type { Actor } from '../../shared/history-event';
import { controlActions } from './control-actions';
import { loadAdminTls } from './admin-tls';
import { defaultTokenFile, removeTokenFile, writeTokenFile } from './token-file';

/** Session counts on the live page may be this old (they take a SCAN). */
const SESSION_COUNT_CACHE_MS = 10_000;
/** VIPs and pools that appear in Redis without being in this node's config show up within this time. */
const DISCOVERY_CACHE_MS = 5_000;

/** What the admin server needs of the data plane (the DataPlane port fits). */
export interface AdminNode {
  /** Lifecycle, read synchronously for /readyz. */
  status(): { state: string; draining: boolean };
  /** Full state for /api/state (may ask every worker). */
  snapshot(): unknown | Promise<unknown>;
}

/** What it may use of the control-plane agent (cluster/cluster-agent.ts ClusterAgent fits). */
export interface AdminAgent {
  /** Ownership, readiness and Redis link as this node sees them, for /api/state. */
  snapshot?(): unknown;
  /** Readiness gate: config loaded, Redis reachable or last-known state usable. */
  readonly ready?: boolean;
  /** Planned handover through the agent's own command bus; `by` is recorded in the cluster history. */
  failover?(req: { vip?: string; to?: string }, by?: Actor): Promise<unknown>;
  drain?(by?: Actor): Promise<unknown>;
  undrain?(by?: Actor): Promise<unknown>;
}

/** Inputs of startAdminServer, all from the composition root. */
export interface StartAdminOptions {
  config: Config;
  logger: Logger;
  metrics: MetricsSource;
  node: AdminNode;
  agent?: AdminAgent;
  /** Overrides node.admin.listen (tests). */
  listen?: string;
}

/**
 * A running admin server; `stop()` closes it and its Redis connection (and
 * removes a generated token file); `reload(config)` re-reads node.admin.tls.
 */
export interface RunningAdmin {
  server: AdminServer;
  address: string;
  token: string;
  /** Where the generated token was written, or null when the token came from the config. */
  tokenFile: string | null;
  stop(): Promise<void>;
  /** SIGHUP: new admin certificates for new connections; throws ConfigError and keeps the old ones when they are bad. */
  reload(config: Config): void;
}

/** Starts the admin API on node.admin.listen. Throws when the address cannot be bound. */
export async function startAdminServer(o: StartAdminOptions): Promise<RunningAdmin> {
  const { config, logger } = o;
  const log = logger.child({ component: 'admin' });
  const redis = createRedis(config.cluster.redis, 'state');
  redis.on('error', () => { /* status shows it; ioredis reconnects by itself */ });
  const keys = new RedisKeys(config.cluster.name);
  redis.connect().then(() => publishVipInfo(redis, keys, config.vips)).catch((err: Error) => log.warn({ err: err.message }, 'could not publish VIP facts for wsha status'));
  const address = redisAddress(config.cluster.redis);

  const by = (ctx: ActionContext) => adminActor(config.node.admin.tokenName, config.node.id, ctx.remoteAddress);
  const sessionCounts = cachedCountKeys(SESSION_COUNT_CACHE_MS);
  const discover = cachedDiscover(DISCOVERY_CACHE_MS);
  const providers: AdminProviders = {
    state: async () => ({ nodeId: config.node.id, cluster: config.cluster.name, node: await o.node.snapshot(), agent: o.agent?.snapshot?.() ?? null, redis: { address, status: redis.status } }),
    ready: () => {
      const s = o.node.status();
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
    ...(o.agent?.failover ? { failover: (req: { vip?: string; to?: string }, ctx: ActionContext) => o.agent!.failover!(req, by(ctx)) } : {}),
    ...(o.agent?.drain ? { drain: (ctx: ActionContext) => o.agent!.drain!(by(ctx)) } : {}),
    ...(o.agent?.undrain ? { undrain: (ctx: ActionContext) => o.agent!.undrain!(by(ctx)) } : {}),
    history: historyProvider(redis, keys, address),
  };
  let tls;
  try { tls = loadAdminTls(config); } catch (err) { redis.disconnect(); throw err; }
  const server = new AdminServer({ listen: o.listen ?? config.node.admin.listen, token: config.node.admin.token, metrics: o.metrics, providers, log, tls });
  let tokenFile: string | null = null;
  try {
    // A generated token goes to a file only this user can read; the log says where, never what.
    if (!config.node.admin.token) tokenFile = writeGeneratedToken(config, server.token, log);
    await server.start();
  } catch (err) {
    redis.disconnect();
    if (tokenFile) removeTokenFile(tokenFile);
    throw err;
  }
  return {
    server, address: server.address, token: server.token, tokenFile,
    stop: async () => { await server.close(); redis.disconnect(); if (tokenFile) removeTokenFile(tokenFile); },
    reload: (next: Config) => {
      const pem = loadAdminTls(next);
      if (!server.reloadTls(pem) && (pem !== null) !== server.secure) log.warn('node.admin.tls turned on or off: takes effect after a restart');
    },
  };
}

function writeGeneratedToken(config: Config, token: string, log: Logger): string {
  const path = config.node.admin.tokenFile ?? defaultTokenFile(config.cluster.name, config.node.id);
  try {
    writeTokenFile(path, token);
  } catch (err) {
    throw new Error(`node.admin.token is not set and the generated token cannot be written to ${path}: ${(err as Error).message}`);
  }
  log.warn({ tokenFile: path }, 'node.admin.token is not set: generated a token for this run, readable by this user only in the token file');
  return path;
}
