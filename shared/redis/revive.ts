/**
 * Connects a long-lived ioredis client again when ioredis ended it without
 * being asked to.
 *
 * ioredis ends a client for good, past its retry strategy, when a
 * disconnect reaches the connector while a reconnect is still resolving
 * where to connect: the connect then fails with "Connection is closed." and
 * the status becomes 'end'. With Sentinel, the failover detector does
 * exactly that on +switch-master, which arrives while the clients are
 * reconnecting after the old master died (most likely how a test's
 * client ended during a Sentinel failover). A node's lease, state and
 * subscriber clients must outlive any failover, so only our own
 * disconnect() or quit() may end one for good.
 */
import type Redis from 'ioredis';

/** How long to wait before the n-th connect of an ended client (n from 1). */
export type ReviveDelay = (attempt: number) => number;

/** Called before each connect of an ended client. */
export type OnRevive = (attempt: number) => void;

/**
 * Watches `r` for an 'end' it was not asked for and connects it again after
 * `delayMs(attempt)`, until it is ready (the count then starts over) or
 * closed by disconnect() or quit(). Subscriptions come back as after any
 * reconnect (ioredis resubscribes from the condition it kept at the close).
 */
export function reviveWhenEnded(r: Redis, delayMs: ReviveDelay, onRevive?: OnRevive): void {
  let closing = false;
  // ioredis keeps "asked to close" private; every way of closing a client on purpose goes through these two.
  const disconnect = r.disconnect.bind(r);
  r.disconnect = (reconnect = false): void => {
    if (!reconnect) closing = true;
    disconnect(reconnect);
  };
  const quit = r.quit;
  r.quit = function (this: Redis, ...args: unknown[]) {
    closing = true;
    return (quit as (...a: unknown[]) => unknown).apply(this, args);
  } as Redis['quit'];
  let attempt = 0;
  let timer: NodeJS.Timeout | null = null;
  r.on('ready', () => { attempt = 0; });
  r.on('end', () => {
    if (closing || timer) return;
    const n = ++attempt;
    timer = setTimeout(() => {
      timer = null;
      if (closing || r.status !== 'end') return;
      onRevive?.(n);
      // A failure ends the client again, and the 'end' schedules the next attempt.
      r.connect().catch(() => {});
    }, delayMs(n));
    timer.unref();
  });
}
