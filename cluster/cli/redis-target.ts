/**
 * Which cluster a CLI command talks to, and the Redis connection to it.
 * Either `--config FILE` (the node's own config: Redis settings and cluster
 * name) or `--redis URL --cluster NAME`; WSHA_CONFIG, WSHA_REDIS_URL and
 * WSHA_CLUSTER fill in when the flags are absent. Connecting has a short
 * timeout and fails with RedisUnavailableError naming the address, which
 * the CLI prints as one line with exit code 3.
 *
 * Other engineers' commands use it like this:
 *
 *   addTargetOptions(cmd).action(action(async (opts) => {
 *     await withTarget(opts, async ({ redis, keys }) => { ... });
 *   }));
 */
import type { Command } from 'commander';
import type Redis from 'ioredis';
import { loadConfig } from '../../shared/config/load';
import { RedisSchema, type Config, type RedisConfig } from '../../shared/config/schema';
import { ConfigError, RedisUnavailableError, WshaError } from '../../shared/errors';
import { createRedis, redisAddress } from '../../shared/redis/connect';
import { RedisKeys } from '../../shared/redis/keys';

/** The flags every cluster-facing command accepts. */
export interface TargetOptions {
  config?: string;
  redis?: string;
  cluster?: string;
  /** Connect timeout in ms. */
  timeout?: string | number;
}

/** A connected cluster target. */
export interface Target {
  redis: Redis;
  keys: RedisKeys;
  cluster: string;
  /** Printable Redis address (host:port or the sentinels). */
  address: string;
  /** The loaded config when `--config` was given. */
  config: Config | null;
}

/** CLI connect timeout when none is given: short, so a dead Redis is reported at once. */
export const CLI_CONNECT_TIMEOUT_MS = 1500;

/** Adds --config, --redis, --cluster and --timeout to a command. */
export function addTargetOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'a node config file (Redis settings and cluster name); env WSHA_CONFIG')
    .option('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379 (with --cluster); env WSHA_REDIS_URL')
    .option('--cluster <name>', 'cluster name (with --redis); env WSHA_CLUSTER')
    .option('--timeout <ms>', 'Redis connect timeout in ms', String(CLI_CONNECT_TIMEOUT_MS));
}

/** Resolves the flags (and env) into Redis settings and a cluster name; throws ConfigError when neither form is complete. */
export function resolveTarget(opts: TargetOptions, env: NodeJS.ProcessEnv = process.env): { redisCfg: RedisConfig; cluster: string; config: Config | null } {
  const file = opts.config ?? (opts.redis ? undefined : env.WSHA_CONFIG);
  if (file) {
    const config = loadConfig(file, env);
    return { redisCfg: config.cluster.redis, cluster: opts.cluster ?? config.cluster.name, config };
  }
  const url = opts.redis ?? env.WSHA_REDIS_URL;
  const cluster = opts.cluster ?? env.WSHA_CLUSTER;
  if (!url || !cluster) throw new ConfigError('say which cluster: --config FILE, or --redis URL --cluster NAME');
  const parsed = RedisSchema.safeParse({ url, password: env.WSHA_REDIS_PASSWORD || undefined });
  if (!parsed.success) throw new ConfigError(`bad --redis ${url}`, parsed.error.issues.map((i) => i.message));
  return { redisCfg: parsed.data, cluster, config: null };
}

/** Connects to Redis within `timeoutMs` or throws RedisUnavailableError naming the address. */
export async function connectCli(redisCfg: RedisConfig, timeoutMs: number): Promise<Redis> {
  const address = redisAddress(redisCfg);
  const redis = createRedis({ ...redisCfg, connectTimeoutMs: timeoutMs }, 'cli');
  let lastErr: unknown;
  redis.on('error', (err) => { lastErr = err; });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), deadline]);
    return redis;
  } catch (err) {
    redis.disconnect();
    const cause = lastErr ?? err;
    const why = (cause as NodeJS.ErrnoException)?.code ?? (cause as Error)?.message ?? String(cause);
    const e = new RedisUnavailableError(address, cause);
    e.message = `cannot reach Redis at ${address} (${why})`;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Opens the target, runs `fn`, and always closes the connection. */
export async function withTarget<T>(opts: TargetOptions, fn: (t: Target) => Promise<T>): Promise<T> {
  const { redisCfg, cluster, config } = resolveTarget(opts);
  const timeoutMs = Number(opts.timeout ?? CLI_CONNECT_TIMEOUT_MS) || CLI_CONNECT_TIMEOUT_MS;
  const redis = await connectCli(redisCfg, timeoutMs);
  const address = redisAddress(redisCfg);
  try {
    return await fn({ redis, keys: new RedisKeys(cluster), cluster, address, config });
  } catch (err) {
    throw asRedisLoss(err, redis, address);
  } finally {
    redis.disconnect();
  }
}

/** A connection error from ioredis in the middle of a command becomes RedisUnavailableError (exit 3); anything else passes. */
export function asRedisLoss(err: unknown, redis: Redis, address: string): unknown {
  if (err instanceof WshaError) return err;
  const msg = (err as Error)?.message ?? String(err);
  const lost = redis.status !== 'ready' || /Connection is closed|Command timed out|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|Stream isn't writeable/i.test(msg);
  if (!lost) return err;
  const e = new RedisUnavailableError(address, err);
  e.message = `lost Redis at ${address} (${msg})`;
  return e;
}
