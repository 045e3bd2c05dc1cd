/**
 * Every wsha node config the fault matrix writes comes from this file, and
 * only from here: the ownership rewrite will add required keys (a cluster
 * secret file for the authenticated peer link, a stall budget, kernel probe
 * settings); they go into `faultNodeConfig` once and every fault picks them
 * up. Today's schema is strict (unknown keys are rejected), so nothing here
 * is speculative: every key below exists in shared/config/schema.ts.
 *
 * Timings are left to the product's defaults on purpose: the matrix measures
 * what an operator gets out of the box.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** Ports inside the lab: each namespace has its own port space, so fixed numbers never collide. */
export const FAULT_PORTS = Object.freeze({ redis: 6390, sentinel: 26390, backend: 8080, vip: 8000, admin: 9901, peer: 9902 });

/** Bearer token of every node's admin API in the lab (the sampler uses it). */
export const ADMIN_TOKEN = 'fault-matrix-admin-token';

/** VIP name in every config. */
export const VIP_NAME = 'web';

/** How the nodes reach Redis. */
export type RedisTarget =
  | { kind: 'single'; host: string; port: number }
  | { kind: 'sentinel'; name: string; sentinels: Array<{ host: string; port: number }> };

/** What varies per node and per fault. */
export interface FaultNodeOptions {
  /** Node id (the lab host name, p1, p2, ...). */
  id: string;
  /** The host's lab address (admin API, advertised address, peer link). */
  address: string;
  /** Interface facing the bridge. */
  iface: string;
  priority: number;
  vipAddress: string;
  redis: RedisTarget;
  /**
   * Where the peer link listens. `lab` (default): the host's lab address on a
   * fixed port; `default`: the key is left out, so the schema's loopback
   * default applies (the "two hosts with the default peer.listen" fault).
   */
  peerListen?: 'lab' | 'default';
  logLevel?: string;
  /** The cluster secret file every node of the lab shares (written by writeFaultNodeConfig). */
  secretFile?: string;
}

/** The cluster secret of this run of the matrix (the nodes read it from a 0600 file). */
const CLUSTER_SECRET = randomBytes(24).toString('hex');

/** The raw config object of one node (as it would sit in the YAML file). */
export function faultNodeConfig(o: FaultNodeOptions): Record<string, unknown> {
  const redis = o.redis.kind === 'single'
    ? { url: `redis://${o.redis.host}:${o.redis.port}` }
    : { url: 'redis://127.0.0.1:6379', name: o.redis.name, sentinels: o.redis.sentinels };
  const peer = (o.peerListen ?? 'lab') === 'lab' ? { listen: `${o.address}:${FAULT_PORTS.peer}` } : {};
  return {
    cluster: { name: 'faults', redis, ...(o.secretFile ? { secretFile: o.secretFile } : {}) },
    node: {
      id: o.id,
      priority: o.priority,
      address: o.address,
      admin: { listen: `${o.address}:${FAULT_PORTS.admin}`, token: ADMIN_TOKEN },
      peer,
    },
    vips: [{ name: VIP_NAME, driver: 'linux', address: o.vipAddress, prefix: 32, interface: o.iface, preempt: false }],
    listeners: [{ name: 'ws', on: `vip:${VIP_NAME}`, port: FAULT_PORTS.vip }],
    routes: [{ pool: 'app' }],
    pools: {
      app: {
        backends: [{ id: `app-${o.id}`, url: `http://127.0.0.1:${FAULT_PORTS.backend}` }],
        healthCheck: { type: 'tcp', intervalMs: 500, timeoutMs: 300 },
      },
    },
    logging: { level: o.logLevel ?? 'info' },
  };
}

/** Writes a node's config as YAML into `dir`; returns the file path. */
export function writeFaultNodeConfig(dir: string, o: FaultNodeOptions): string {
  const secretFile = join(dir, 'cluster.secret');
  if (!existsSync(secretFile)) writeFileSync(secretFile, `${CLUSTER_SECRET}\n`, { mode: 0o600 });
  const file = join(dir, `node-${o.id}.yaml`);
  writeFileSync(file, stringify(faultNodeConfig({ ...o, secretFile })));
  return file;
}
