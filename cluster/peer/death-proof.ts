/**
 * What Redis says about a process: whether the connections it opened (named
 * `wsha:CLUSTER:NODE:INCARNATION:PURPOSE`) are still there. A process that
 * died had its sockets closed by its kernel at once, so Redis drops its
 * connections within milliseconds; a live process partitioned from its peer
 * still has its lease connection. This is the third leg of a death proof,
 * beside a closed link and a refused reconnect (peer-mesh.ts).
 */
import type Redis from 'ioredis';
import { connectionName } from '../../shared/redis/connect';

/** Name and client address of every connection in a CLIENT LIST reply. */
export function clientEntries(clientList: string): Array<{ name: string; ip: string }> {
  const out: Array<{ name: string; ip: string }> = [];
  for (const line of clientList.split('\n')) {
    const name = / name=(\S*)/.exec(` ${line}`)?.[1];
    const addr = / addr=(\S+)/.exec(` ${line}`)?.[1] ?? '';
    if (name) out.push({ name, ip: addr.slice(0, addr.lastIndexOf(':')) });
  }
  return out;
}

/** Names of every connection in a CLIENT LIST reply. */
export function clientNames(clientList: string): Set<string> {
  return new Set(clientEntries(clientList).map((c) => c.name));
}

/** `gone`: Redis has no lease connection of that incarnation; `present`: it has; `unknown`: Redis could not tell. */
export type RedisPresence = 'gone' | 'present' | 'unknown';

/** Asks Redis whether the lease connection of `node`'s incarnation `inc` is still open. */
export async function leaseConnectionPresence(redis: Redis, cluster: string, node: string, inc: string): Promise<RedisPresence> {
  try {
    const list = (await redis.call('CLIENT', 'LIST', 'TYPE', 'normal')) as string;
    return clientNames(list).has(connectionName(cluster, node, inc, 'lease')) ? 'present' : 'gone';
  } catch {
    return 'unknown';
  }
}
