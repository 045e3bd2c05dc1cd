/**
 * The config one worker process runs with: the node's config with the live
 * pools in force, and `limits.maxConnections` divided between the workers
 * (the kernel spreads connections about evenly over SO_REUSEPORT sockets, so
 * the node as a whole stays near the configured cap). The per-client limits
 * are not divided: they apply per worker (a client's connections may land
 * on any worker). Pure.
 */
import type { Config, PoolConfig } from '../../shared/config/schema';

/** `config` as worker `index` of `count` runs it. */
export function workerConfig(config: Config, count: number, pools: Readonly<Record<string, PoolConfig>> = config.pools): Config {
  const maxConnections = Math.max(1, Math.floor(config.limits.maxConnections / Math.max(1, count)));
  if (maxConnections === config.limits.maxConnections && pools === config.pools) return config;
  return Object.freeze({ ...config, pools, limits: Object.freeze({ ...config.limits, maxConnections }) }) as Config;
}
