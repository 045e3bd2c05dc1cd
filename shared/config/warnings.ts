/**
 * Things a valid config may still get wrong, found without starting
 * anything (`wsha config check` prints them; none stops a node by itself).
 * Each names the key it is about.
 */
import type { Config } from './schema';

/** Checks that need more than the file (the environment, the file system); injected so that this module stays pure. */
export interface WarningProbes {
  /** The problem with the cluster secret (missing, unreadable, readable by others, too short), or null when it loads. */
  secretProblem(): string | null;
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);
const isWildcard = (host: string) => host === '' || host === '0.0.0.0' || host === '::';

/** The warnings for `c`. */
export function configWarnings(c: Config, probes: WarningProbes): string[] {
  const out: string[] = [];
  const listen = c.node.peer.listen;
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  const advertised = c.node.peer.advertise;
  if (!advertised && isLoopback(host)) {
    out.push(`node.peer.listen: ${listen} is loopback: only nodes on this host can reach it; nodes on two or more hosts need an address the others reach (node.peer.listen or node.peer.advertise), and wsha node start refuses a loopback address once it sees nodes on other hosts`);
  }
  if (!advertised && isWildcard(host) && !c.node.address) {
    out.push(`node.peer.listen: ${listen} is a wildcard address and neither node.peer.advertise nor node.address says which address other nodes should dial; wsha node start refuses it`);
  }
  const secret = probes.secretProblem();
  if (secret) out.push(secret);
  out.push(...originWarnings(c));
  return out;
}

/**
 * Cross-Site WebSocket Hijacking (issue 12): a browser sends a site's cookies
 * with a WebSocket opened from any other page, so a route reachable from
 * outside needs an Origin list unless it takes no cookie-borne credentials.
 * Every route can carry WebSockets, so every route of a public node counts.
 */
function originWarnings(c: Config): string[] {
  const publicListeners = c.listeners.filter((l) => l.on.startsWith('vip:') || !isLoopback(l.on));
  if (!publicListeners.length) return [];
  const names = publicListeners.map((l) => l.name).join(', ');
  const out: string[] = [];
  c.routes.forEach((r, i) => {
    if (!r.access?.origins) out.push(`routes[${i}].access.origins: not set, and listener ${names} is not loopback-only: any web page can open WebSockets on this route with its visitors' cookies (Cross-Site WebSocket Hijacking); list the allowed origins`);
  });
  return out;
}
