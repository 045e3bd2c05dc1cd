/** Small waiting helpers of the demo: a free port on an address, and a bounded poll. */
import { createServer } from 'node:net';

/** A port that was free a moment ago on `host` (the kernel picks it). */
export function freePortOn(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `fn` every `everyMs` until it returns a truthy value; throws naming `what` after `timeoutMs`. */
export async function waitUntil<T>(fn: () => Promise<T> | T, what: string, timeoutMs: number, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline && i < 1_000_000; i++) {
    const v = await Promise.resolve().then(fn).catch(() => null);
    if (v) return v as NonNullable<T>;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
