/**
 * TCP keepalive on the proxy's client and backend sockets
 * (limits.tcpKeepAliveMs). Node sets the idle time only: once it passes,
 * libuv has the kernel probe every second, ten times, and abort the socket
 * if none is answered. The kernel files keepalive timers in wheel slots
 * that are seconds wide at these delays, so sockets armed within one slot
 * probe in the same timer tick, and a tick's probes beyond a queue's length
 * (on loopback `net.core.netdev_max_backlog`, 1000 by default) are dropped
 * and retried together a second later. A reconnect storm (every client of a
 * failed-over VIP within a few seconds) armed that way probes as one burst:
 * each socket adds up to a quarter of the delay, so that such a cohort is
 * spread over many slots.
 */
import type { Socket } from 'node:net';

/** The largest share of the delay a socket adds to it. */
export const KEEPALIVE_JITTER = 0.25;

/** The idle time of one socket's keepalive, in ms: the delay plus up to KEEPALIVE_JITTER of it. */
export function keepAliveDelayMs(delayMs: number, random: () => number = Math.random): number {
  return delayMs + Math.floor(random() * delayMs * KEEPALIVE_JITTER);
}

/** Turns keepalive on for a socket (0: leaves it off, as a new socket is). */
export function applyKeepAlive(socket: Socket, delayMs: number): void {
  if (delayMs > 0) socket.setKeepAlive(true, keepAliveDelayMs(delayMs));
}
