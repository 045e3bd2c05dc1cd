/** Free TCP ports for tests: ask the kernel with port 0, never a fixed port. */
import { freePortOn } from '../../cluster/demo/wait';

/** A port that was free a moment ago on `host` (the demo's helper: one implementation). */
export function freePort(host = '127.0.0.1'): Promise<number> {
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
