/** Small waiting helpers of the demo: a free port on an address, a TCP accept check, and a bounded poll. */
import { connect, createServer } from 'node:net';

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

/** Whether `host:port` accepts a TCP connection within `timeoutMs` (the connection is closed at once). */
export function acceptsTcp(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean): void => { clearTimeout(timer); sock.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
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
