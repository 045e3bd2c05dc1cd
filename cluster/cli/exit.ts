/**
 * Exit codes of the `wsha` command and the one place that turns an error
 * into a one-line message: operators see what failed and where, never a
 * stack trace (set WSHA_DEBUG=1 to get one).
 */
import { ConfigError, RedisUnavailableError, WshaError } from '../../shared/errors';

/** Documented exit codes (README "CLI"). */
export const EXIT = Object.freeze({
  /** Done; for `status`: the cluster is healthy. */
  ok: 0,
  /** `status`: degraded (a node down, a backend down, Redis slow); other commands: the action failed. */
  degraded: 1,
  /** `status`: down (a VIP without owner, a pool without backend); other commands: bad config or usage. */
  down: 2,
  /** Redis could not be reached. */
  redisUnavailable: 3,
  /** A named node, VIP, pool or backend does not exist. */
  notFound: 4,
});

/** Exit code for an error thrown by a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof RedisUnavailableError) return EXIT.redisUnavailable;
  if (err instanceof ConfigError) return EXIT.down;
  if (err instanceof WshaError && err.code === 'WSHA_ERR_NOT_FOUND') return EXIT.notFound;
  return EXIT.degraded;
}

/** Prints `wsha: message` (plus the code for WshaErrors) on stderr and sets the exit code. */
export function reportError(err: unknown): number {
  const code = exitCodeFor(err);
  const msg = err instanceof Error ? err.message : String(err);
  const tag = err instanceof WshaError ? ` [${err.code}]` : '';
  process.stderr.write(`wsha: ${msg}${tag}\n`);
  if (process.env.WSHA_DEBUG === '1' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exitCode = code;
  return code;
}

/** Wraps a commander action so that every error ends in one line and a documented exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      reportError(err);
    }
    // A command is done when its action is: ioredis may keep a timer for a
    // couple of seconds after a failed connect, which would delay the exit.
    setTimeout(() => process.exit(), 20).unref();
  };
}
