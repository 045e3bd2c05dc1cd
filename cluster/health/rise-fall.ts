/**
 * One node's local view of one backend from its own active checks: a small
 * state machine that needs `rise` good checks in a row to go up and `fall`
 * bad ones to go down, so a flapping backend does not flap the verdict.
 * Passive failures (live traffic) can force it down at once. Pure: no I/O.
 *
 *   unknown --first result--> up | down
 *   up   --fall bad in a row-->  down
 *   down --rise good in a row--> up
 */
import { StateMachine, type TransitionTable } from '../../shared/state-machine';
import type { Logger } from '../../shared/logger';

/** Local health states of a backend. */
export const LOCAL_HEALTH_STATES = ['unknown', 'up', 'down'] as const;
/** Local health of a backend as this node's checks see it. */
export type LocalHealth = (typeof LOCAL_HEALTH_STATES)[number];

const TABLE: TransitionTable<LocalHealth> = Object.freeze({
  unknown: ['up', 'down'],
  up: ['down'],
  down: ['up'],
});

/** Rise/fall counter over check results. */
export class RiseFall {
  readonly #sm: StateMachine<LocalHealth>;
  #good = 0;
  #bad = 0;
  /** Why the backend is down, when it is. */
  reason: string | undefined;

  constructor(readonly rise: number, readonly fall: number, log?: Logger, name = 'backend-health') {
    this.#sm = new StateMachine<LocalHealth>(name, 'unknown', TABLE, log);
  }

  get state(): LocalHealth { return this.#sm.state; }

  /**
   * Records one check result; returns true when the state changed. The very
   * first result decides at once, so a node that just started knows quickly.
   */
  record(ok: boolean, reason?: string): boolean {
    if (ok) { this.#good++; this.#bad = 0; } else { this.#bad++; this.#good = 0; if (reason) this.reason = reason; }
    const from = this.#sm.state;
    if (from === 'unknown') this.#sm.transition(ok ? 'up' : 'down', ok ? 'first check passed' : `first check failed: ${reason ?? 'unknown'}`);
    else if (from === 'up' && this.#bad >= this.fall) this.#sm.transition('down', `${this.#bad} failed checks: ${reason ?? 'unknown'}`);
    else if (from === 'down' && this.#good >= this.rise) this.#sm.transition('up', `${this.#good} good checks`);
    if (this.#sm.state === 'up') this.reason = undefined;
    return this.#sm.state !== from;
  }

  /** Forces the state down (passive failures); the backend then needs `rise` good checks. Returns true on a change. */
  forceDown(reason: string): boolean {
    this.#good = 0;
    this.reason = reason;
    const from = this.#sm.state;
    this.#sm.transition('down', reason);
    return from !== 'down';
  }
}
