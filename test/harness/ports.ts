/**
 * Free TCP ports for tests, never a fixed port: a random one that binds,
 * below the kernel's range for the local ports of outgoing connections.
 * A port the kernel hands out for port 0 comes from that range, and
 * between the pick and the node's own bind any connect() of the machine
 * (a Redis client, a health check) could take it as its local port: a CI
 * run lost a test to EADDRINUSE on an admin port that way.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePortOn } from '../../cluster/demo/wait';

/** Lowest port tried; the range ends below the kernel's ephemeral range. */
const LOWEST = 10_000;
/** Random picks before falling back to port 0. */
const PICKS = 200;
/** Ports this process handed out: two picks in a row never return the same one before it is bound. */
const handedOut = new Set<number>();

/** [lowest, highest] port to pick from, or null when the ephemeral range leaves no room below it. */
function readPickRange(): [number, number] | null {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low - 1 - LOWEST >= 1000 ? [LOWEST, low - 1] : null;
  } catch {
    return null;
  }
}

/** 'free', 'taken', or 'unusable' (the address cannot be bound here at all). */
function tryBind(host: string, port: number): Promise<'free' | 'taken' | 'unusable'> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? 'taken' : 'unusable'));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve('free')));
  });
}

/** Read once: the kernel's range does not change under a test run. */
let pickRange: [number, number] | null | undefined;

/** A port that was free a moment ago on `host`. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  if (pickRange === undefined) pickRange = readPickRange();
  const range = pickRange;
  for (let i = 0; range && i < PICKS; i++) {
    const port = range[0] + Math.floor(Math.random() * (range[1] - range[0] + 1));
    if (handedOut.has(port)) continue;
    const r = await tryBind(host, port);
    if (r === 'unusable') break;
    if (r === 'free') { handedOut.add(port); return port; }
  }
  return freePortOn(host);
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 10000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; Date.now() < deadline && i < 1_000_000; i++) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) { last = err; }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}
