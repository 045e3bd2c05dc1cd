/**
 * The address a node tells its peers to dial (node.peer.advertise, or the
 * bound address with node.address in place of a wildcard host), and the
 * check that it can work: a loopback or wildcard address reaches only this
 * host, so a cluster whose other nodes run on other hosts (Redis sees their
 * connections come from other addresses, or they advertise non-loopback
 * peer addresses) cannot use it. `wsha node start` refuses to start then,
 * naming the key to fix; a node that dialled such an address would only
 * ever reach itself or nothing. When the check runs, and what a node that
 * already serves does with its verdict: reachability-check.ts.
 */
import { isIP } from 'node:net';
import type Redis from 'ioredis';
import { ConfigError } from '../../shared/errors';
import { clientEntries } from './death-proof';

/** Splits HOST:PORT ([v6]:PORT too). */
export function splitHostPort(hp: string): { host: string; port: number } {
  const i = hp.lastIndexOf(':');
  return { host: hp.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(hp.slice(i + 1)) };
}

/** Joins HOST and PORT, bracketing IPv6. */
export function joinHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '::ffff:127.0.0.1';
}

/** 0.0.0.0, ::, empty. */
export function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** The address to advertise, from the bound one; throws ConfigError when a wildcard bind has nothing to advertise. */
export function advertisedPeerAddress(bound: string, o: { advertise?: string; nodeAddress?: string; listen: string }): string {
  if (o.advertise) return o.advertise;
  const { host, port } = splitHostPort(bound);
  if (!isWildcard(host)) return bound;
  if (o.nodeAddress && !isWildcard(o.nodeAddress)) return joinHostPort(o.nodeAddress, port);
  throw new ConfigError('cannot tell peers where to reach this node', [`node.peer.listen: ${o.listen} is a wildcard address; set node.peer.advertise (HOST:PORT other nodes dial) or node.address`]);
}

/** True for Redis refusing a command (NOPERM, unknown command), not for a failed connection. */
function isCommandRefused(err: unknown): boolean {
  const m = (err as Error)?.message ?? '';
  return (err as Error)?.name === 'ReplyError' && /^(NOPERM|ERR unknown command|ERR unknown subcommand)/i.test(m);
}

/** Other nodes of the cluster as Redis and their heartbeats show them. */
export interface OtherNodes {
  /** The addresses other nodes advertise for their peer links. */
  advertised: Array<{ id: string; peer: string }>;
}

/**
 * Throws ConfigError when this node advertises a loopback address but the
 * cluster's other nodes are on other hosts: their Redis connections come
 * from another address than this node's, or they advertise non-loopback
 * peer addresses. Resolves true once the answer is final (the address is
 * not loopback, or at least one other node could be compared and all are
 * on this host), false when there was no other node to compare with: a
 * node alone in Redis cannot tell yet, nor can one that sees only the
 * heartbeat of a node whose connections are gone (it may have just exited).
 */
export async function checkAdvertisedReachable(redis: Redis, cluster: string, selfId: string, advertised: string, others: OtherNodes): Promise<boolean> {
  const { host } = splitHostPort(advertised);
  if (!isLoopback(host)) return true;
  const advertising = others.advertised.filter((o) => o.id !== selfId);
  const remote = advertising.filter((o) => o.peer && !isLoopback(splitHostPort(o.peer).host));
  let compared: Set<string> | undefined;
  let hostsDiffer: string[] = [];
  try {
    const mine = String(await redis.call('CLIENT', 'INFO')).match(/\baddr=(\S+):\d+/)?.[1];
    const list = String(await redis.call('CLIENT', 'LIST', 'TYPE', 'normal'));
    if (mine) {
      const nodes = clientEntries(list).filter((c) => c.name.startsWith(`wsha:${cluster}:`)).map((c) => ({ id: c.name.split(':')[2]!, ip: c.ip })).filter((c) => c.id !== selfId);
      compared = new Set(nodes.map((c) => c.id));
      hostsDiffer = nodes.filter((c) => c.ip !== mine).map((c) => `${c.id} (connects to Redis from ${c.ip}, this node from ${mine})`);
    }
  } catch (err) {
    // Only a refusal of the commands (ACL, a proxy that lacks them) leaves the heartbeats to go by; any other failure
    // (the connection dropped, a timeout) says nothing, and the check runs again at the next membership read.
    if (!isCommandRefused(err)) throw err;
  }
  // Without CLIENT LIST, a heartbeat is all there is to go by: as good as it gets, so it counts.
  compared ??= new Set(advertising.map((o) => o.id));
  const why = [...new Set([...remote.map((o) => `${o.id} advertises ${o.peer}`), ...hostsDiffer])];
  if (why.length === 0) return compared.size > 0;
  throw new ConfigError('the peer link address is loopback, but other nodes of the cluster run on other hosts', [
    `node.peer.listen: this node would advertise ${advertised}, which only this host can reach, while ${why.join('; ')}; set node.peer.listen (or node.peer.advertise) to an address the other hosts reach`,
  ]);
}
