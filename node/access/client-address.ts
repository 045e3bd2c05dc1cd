/**
 * The real client address of a request: the PROXY-protocol source or the
 * socket peer (the listener already chose, conn.clientAddress), or, when a
 * route trusts N proxy hops in front of wsha, the X-Forwarded-For entry N
 * from the right. Each trusted proxy appends the address it saw, so the
 * entries further left were written by whoever connected to the outermost
 * trusted proxy and cannot be trusted.
 */
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** The client address to judge `req` by. With fewer entries than `hops`, the leftmost entry (every entry came from a trusted hop). */
export function clientAddressOf(req: IncomingMessage, socketAddress: string, hops: number): string {
  if (hops <= 0) return socketAddress;
  const raw = req.rawHeaders;
  let list = '';
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 15 && raw[i].toLowerCase() === 'x-forwarded-for') list = list ? `${list},${raw[i + 1]}` : raw[i + 1];
  }
  if (!list) return socketAddress;
  const entries = list.split(',');
  // The socket peer is hop 1 (the nearest trusted proxy); its entry is the last one.
  const pick = entries[Math.max(0, entries.length - hops)].trim();
  const bare = pick.startsWith('[') ? pick.slice(1, pick.indexOf(']')) : pick.includes('.') && pick.includes(':') ? pick.slice(0, pick.lastIndexOf(':')) : pick;
  return isIP(bare) ? bare : socketAddress;
}
