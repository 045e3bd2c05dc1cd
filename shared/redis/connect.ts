/**
 * ioredis factory: one server or Sentinel, with per-purpose connection
 * profiles. The `lease` profile never queues a command while disconnected
 * and never retries one: a renewal that lands after expiry is worse than none.
 */
import Redis, { type RedisOptions } from 'ioredis';
import { readFileSync } from 'node:fs';
import type { RedisConfig } from '../config/schema';
import { reviveWhenEnded, type OnRevive } from './revive';

export type RedisPurpose = 'lease' | 'state' | 'subscriber' | 'cli';

/** A printable address of the configured Redis, for logs and errors. */
export function redisAddress(cfg: RedisConfig): string {
  if (cfg.sentinels?.length) return `sentinel ${cfg.sentinels.map((s) => `${s.host}:${s.port}`).join(',')} (${cfg.name})`;
  try {
    const u = new URL(cfg.url);
    return `${u.hostname}:${u.port || 6379}`;
  } catch {
    return cfg.url;
  }
}

function tlsOptions(cfg: RedisConfig): RedisOptions['tls'] | undefined {
  const t = cfg.tls;
  const wantsTls = cfg.url.startsWith('rediss://') || t !== undefined;
  if (!wantsTls) return undefined;
  return {
    ca: t?.ca ? readFileSync(t.ca) : undefined,
    cert: t?.cert ? readFileSync(t.cert) : undefined,
    key: t?.key ? readFileSync(t.key) : undefined,
    rejectUnauthorized: t?.rejectUnauthorized ?? true,
  };
}

/**
 * The name a node's connection carries in CLIENT LIST: `wsha:CLUSTER:NODE:INCARNATION:PURPOSE`.
 * Standbys look for the lease connection of an owner's incarnation there to prove that process dead.
 */
export function connectionName(cluster: string, node: string, inc: string, purpose: string): string {
  return `wsha:${cluster}:${node}:${inc}:${purpose}`;
}

/** Reconnect quickly but never hammer: 50 ms doubling to 1 s. */
const retryDelayMs = (times: number): number => Math.min(50 * 2 ** Math.min(times, 5), 1000);

function profile(purpose: RedisPurpose, cfg: RedisConfig, name?: string): RedisOptions {
  const common: RedisOptions = {
    connectionName: name ?? `wsha-${purpose}`,
    connectTimeout: cfg.connectTimeoutMs,
    lazyConnect: true,
    retryStrategy: retryDelayMs,
  };
  switch (purpose) {
    case 'lease':
      return { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: cfg.leaseCommandTimeoutMs, autoResendUnfulfilledCommands: false };
    case 'state':
      return { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 };
    case 'subscriber':
      return { ...common, enableOfflineQueue: true, maxRetriesPerRequest: null };
    case 'cli':
      return { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 2000, retryStrategy: () => null };
  }
}

/**
 * Creates (but does not connect) an ioredis client for one purpose; `name` is its CLIENT SETNAME (see connectionName).
 * A client of any purpose but `cli` is connected again when ioredis ends it unasked (revive.ts); `onRevive` hears of it.
 */
export function createRedis(cfg: RedisConfig, purpose: RedisPurpose, name?: string, onRevive?: OnRevive): Redis {
  const r = newClient(cfg, purpose, name);
  if (purpose !== 'cli') reviveWhenEnded(r, retryDelayMs, onRevive);
  return r;
}

function newClient(cfg: RedisConfig, purpose: RedisPurpose, name?: string): Redis {
  const opts = profile(purpose, cfg, name);
  const tls = tlsOptions(cfg);
  if (cfg.sentinels?.length) {
    let password = cfg.password;
    let db = cfg.db;
    try {
      const u = new URL(cfg.url);
      password ??= u.password ? decodeURIComponent(u.password) : undefined;
      if (u.pathname.length > 1) db = Number(u.pathname.slice(1)) || db;
    } catch { /* url is validated by the schema */ }
    return new Redis({
      ...opts,
      sentinels: cfg.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: cfg.name,
      username: cfg.username,
      password,
      sentinelPassword: cfg.sentinelPassword,
      db,
      tls,
      sentinelTLS: tls,
      enableTLSForSentinelMode: tls !== undefined,
      // Without it a sentinel that takes the connection but never answers (stopped, overloaded, cut off after the
      // handshake) holds the master lookup, and every connect behind it, for good; with it the next sentinel is asked.
      sentinelCommandTimeout: cfg.connectTimeoutMs,
      failoverDetector: true,
    } as RedisOptions);
  }
  return new Redis(cfg.url, { ...opts, username: cfg.username, password: cfg.password, db: cfg.db, tls });
}
