/**
 * Clean-ups of one test that run last-in first-out, as teardown should:
 * what was set up last goes first, so clients close before the servers they
 * talk to. (node:test runs `t.after` hooks in the order they were added; an
 * ioredis client disconnected after its redis-server stopped waits 2 s for
 * a socket close that never comes, and keeps the test file's process alive
 * that long.) Every clean-up runs; the first error is thrown after all ran.
 */
import type { TestContext } from 'node:test';

/** Something clean-ups can be added to, as to `t.after` (helpers that take a test context accept it). */
export interface Cleanups { after(fn: () => unknown): void }

/** One `t.after` hook that runs the clean-ups added to the returned object in reverse order. */
export function teardown(t: TestContext): Cleanups {
  const fns: Array<() => unknown> = [];
  t.after(async () => {
    let first: unknown;
    let failed = false;
    for (const fn of fns.reverse()) {
      try { await fn(); } catch (err) { if (!failed) { failed = true; first = err; } }
    }
    if (failed) throw first;
  });
  return { after: (fn) => { fns.push(fn); } };
}
