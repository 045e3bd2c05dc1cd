/**
 * The peer link's handshake, pure: a challenge with fresh nonces from both
 * sides, answered with HMAC-SHA256 under the cluster secret, so that only a
 * node holding the secret can open a link, read a node's state or ask it for
 * anything, and a recorded handshake cannot be replayed.
 *
 *   client (dialing node)                       server (listening node)
 *      |------------------- TCP connect ------------------>|
 *      |<-- HELLO {cluster, node, inc, nonce: Ns} ----------|
 *      |--- AUTH {node, inc, role, nonce: Nc,               |
 *      |          mac: H(secret, "c", cluster, Ns, Nc, C, S, role)} ->|  verifies, or closes
 *      |<-- OK {mac: H(secret, "s", cluster, Ns, Nc, C, S, role)} -|
 *   verifies, or closes
 *      both: session key K = H(secret, "k", Ns, Nc); every later message
 *      carries H(K, direction, sequence number, body), so that nothing can be
 *      injected, replayed or reordered on the connection.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Who is at one end of a link: a node id and the random id of its process (incarnation). */
export interface PeerIdentity { node: string; inc: string }

/**
 * What the dialing side is: a `node` of the cluster (its link counts as a
 * peer link: beats, grants, evidence) or a `tool` (the CLI, a test sampler)
 * that may only ask for state. Part of the MAC, so it cannot be changed.
 */
export type PeerRole = 'node' | 'tool';

/** A fresh nonce (or incarnation id): 16 random bytes as hex. */
export function freshNonce(): string { return randomBytes(16).toString('hex'); }

function mac(key: Buffer, parts: readonly string[]): string {
  const h = createHmac('sha256', key);
  h.update(parts.join('\n'));
  return h.digest('hex');
}

/** The MAC one side proves itself with: `role` c for the dialing node, s for the listening one. */
export function handshakeMac(secret: Buffer, side: 'c' | 's', cluster: string, serverNonce: string, clientNonce: string, client: PeerIdentity, server: PeerIdentity, role: PeerRole): string {
  return mac(secret, ['wsha-peer-v1', side, cluster, serverNonce, clientNonce, client.node, client.inc, server.node, server.inc, role]);
}

/** The per-connection key for message MACs. */
export function sessionKey(secret: Buffer, serverNonce: string, clientNonce: string): Buffer {
  return createHmac('sha256', secret).update(['wsha-peer-v1', 'k', serverNonce, clientNonce].join('\n')).digest();
}

/** Constant-time comparison of two hex MACs of the same length. */
export function macEqual(a: string, b: string): boolean {
  if (typeof a !== 'string' || typeof b !== 'string' || a.length !== b.length || a.length === 0) return false;
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
