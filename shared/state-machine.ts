/**
 * A tiny explicit state machine: state names, a table of legal transitions,
 * and one `transition(next, reason)` choke point that rejects illegal moves,
 * logs `from -> to`, and tells listeners.
 */
import type { Logger } from 'pino';

export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

export interface TransitionEvent<S extends string> { from: S; to: S; reason: string; fields?: Record<string, unknown> }

/** Thrown on a move the table does not allow: always a bug. */
export class IllegalTransitionError extends Error {
  readonly code = 'WSHA_ERR_ILLEGAL_TRANSITION';
  constructor(machine: string, from: string, to: string) { super(`${machine}: illegal transition ${from} -> ${to}`); }
}

export class StateMachine<S extends string> {
  #state: S;
  /** Null until the first onTransition: most machines (one per tunnel) never get a listener. */
  #listeners: Array<(e: TransitionEvent<S>) => void> | null = null;
  constructor(
    readonly machine: string,
    initial: S,
    readonly table: TransitionTable<S>,
    readonly log?: Logger,
  ) { this.#state = initial; }

  get state(): S { return this.#state; }

  can(next: S): boolean { return this.table[this.#state].includes(next); }

  /** Moves to `next` or throws IllegalTransitionError; a move to the same state is a no-op. */
  transition(next: S, reason: string, fields?: Record<string, unknown>): void {
    const from = this.#state;
    if (from === next) return;
    if (!this.table[from].includes(next)) throw new IllegalTransitionError(this.machine, from, next);
    this.#state = next;
    this.log?.info({ machine: this.machine, from, to: next, reason, ...fields }, `${this.machine} ${from} -> ${next}`);
    const ls = this.#listeners;
    if (ls === null) return;
    const e = { from, to: next, reason, fields };
    for (const l of ls) l(e);
  }

  onTransition(fn: (e: TransitionEvent<S>) => void): () => void {
    (this.#listeners ??= []).push(fn);
    return () => { this.#listeners = this.#listeners?.filter((f) => f !== fn) ?? null; };
  }
}
