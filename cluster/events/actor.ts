/**
 * Who an operator action is recorded as in the history: `cli` with the host
 * the command ran on (and the OS user), or the admin token's configured name
 * with the node whose admin API was called and the request's address.
 */
import { hostname, userInfo } from 'node:os';
import type { Actor } from '../../shared/history-event';

/** The CLI on this host. */
export function cliActor(): Actor {
  let user: string | undefined;
  try { user = userInfo().username; } catch { user = undefined; }
  return { name: 'cli', via: 'cli', host: hostname(), ...(user ? { from: user } : {}) };
}

/** A request to `nodeId`'s admin API with the token named `tokenName`, from `remoteAddress`. */
export function adminActor(tokenName: string, nodeId: string, remoteAddress: string | undefined): Actor {
  return { name: tokenName, via: 'admin-api', host: nodeId, ...(remoteAddress ? { from: remoteAddress } : {}) };
}

/** `cli@host` / `ops@node-a (10.0.0.9)`, for tables and logs. */
export function actorText(a: Actor | undefined): string {
  if (!a) return '-';
  return `${a.name}@${a.host}${a.from ? ` (${a.from})` : ''}`;
}
