/**
 * Reachability of Redis as this node sees it, as a small machine:
 *
 *   connecting --ok--> connected --error--> degraded --no success for lostAfterMs--> lost
 *        ^                 ^  <-----ok-------'   <--------------ok---------------------'
 *
 * What each state means for ownership (deploy/docs/ownership.md):
 * - connected: normal.
 * - degraded: renewals may be failing; an owner keeps the VIP only until its
 *   step-down deadline (last successful renewal start + ttl - margin).
 * - lost: no owner anywhere can renew, so every owner has stepped down; no
 *   standby can acquire either. The VIP is down until Redis is back: the
 *   price of never having two owners. Established data-plane state (health
 *   verdicts, pools) stays at its last known value.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../shared/metrics';
import type { Clock } from '../shared/clock';
import { StateMachine } from '../shared/state-machine';

/** States of the Redis link machine. */
export const REDIS_LINK_STATES = ['connecting', 'connected', 'degraded', 'lost'] as const;
/** One of REDIS_LINK_STATES. */
export type RedisLinkState = typeof REDIS_LINK_STATES[number];

const TABLE = Object.freeze({
  connecting: ['connected', 'degraded', 'lost'],
  connected: ['degraded', 'lost'],
  degraded: ['connected', 'lost'],
  lost: ['connected'],
} as const satisfies Record<RedisLinkState, readonly RedisLinkState[]>);

/** Minimum spacing of repeated Redis error logs. */
const ERROR_LOG_EVERY_MS = 2000;

/** Tracks Redis reachability from the results of real commands (no extra pings). */
export class RedisLink {
  readonly sm: StateMachine<RedisLinkState>;
  #lastOkMs: number;
  #lastErrorLogMs = -Infinity;

  constructor(readonly lostAfterMs: number, readonly clock: Clock, readonly logger: Logger, readonly metrics: Metrics) {
    this.sm = new StateMachine<RedisLinkState>('redis link', 'connecting', TABLE, logger);
    this.#lastOkMs = clock.nowMs();
  }

  get state(): RedisLinkState { return this.sm.state; }

  /** Records the outcome of one command on `purpose`'s connection. */
  report(purpose: 'lease' | 'state', ok: boolean, err?: unknown): void {
    const now = this.clock.nowMs();
    if (ok) {
      this.#lastOkMs = now;
      if (this.sm.state !== 'connected') this.sm.transition('connected', `${purpose} command succeeded`);
      return;
    }
    this.metrics.redisErrorsTotal.inc({ purpose });
    if (now - this.#lastErrorLogMs >= ERROR_LOG_EVERY_MS) {
      this.#lastErrorLogMs = now;
      this.logger.warn({ purpose, err: (err as Error)?.message ?? String(err) }, 'redis command failed');
    }
    if (now - this.#lastOkMs >= this.lostAfterMs) { if (this.sm.state !== 'lost') this.sm.transition('lost', `no successful command for ${Math.round(now - this.#lastOkMs)} ms`); }
    else if (this.sm.state === 'connected' || this.sm.state === 'connecting') this.sm.transition('degraded', `${purpose} command failed`);
  }
}
