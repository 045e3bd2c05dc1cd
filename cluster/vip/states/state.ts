/**
 * The base of every VIP state handler (one class per state, in the style of
 * raft's runFollower / runCandidate / runLeader): each owns the timers it
 * starts, which die with it when the machine leaves the state, and answers
 * every request explicitly; a request a state cannot serve is refused with a
 * typed error, never ignored.
 */
import type { Logger } from 'pino';
import { HandoverError, NotOwnerError } from '../../../shared/errors';
import type { VipState } from '../ownership';
import type { VipDeps } from '../vip-deps';
import type { VipFacts } from '../vip-facts';
import type { Office } from '../office';
import type { HandoverResult } from './handing-off';

/** What a state handler may do with its machine. */
export interface MachineApi {
  readonly d: VipDeps;
  readonly log: Logger;
  readonly name: string;
  readonly facts: VipFacts;
  /** True once stop() was called: states end in `stopped` instead of `standby`. */
  readonly stopping: boolean;
  /** The one choke point: leaves the current state (its timers die), moves through the transition table, enters `next`. */
  go(next: StateHandler, reason: string, fields?: Record<string, unknown>): void;
  /** The current handler. */
  readonly current: StateHandler;
}

/** One state of the VIP machine. */
export abstract class StateHandler {
  abstract readonly name: VipState;
  /** False once the machine left this state: late continuations do nothing. */
  active = false;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(protected readonly m: MachineApi) {}

  /** Called by the machine when it enters this state. */
  enter(): void {}

  /** Called by the machine when it leaves this state: every timer of the state is cleared. */
  exit(): void {
    this.active = false;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  /** A timer owned by this state: it never fires after the state was left. */
  protected after(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => { this.#timers.delete(t); if (this.active) fn(); }, Math.max(0, ms));
    this.#timers.add(t);
    return t;
  }

  protected cancel(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.#timers.delete(t);
  }

  /** The office (renewals, authority) while this state claims or re-asserts the VIP. */
  office(): Office | null { return null; }

  /** Something a standby looks at changed (peer evidence, an ownership event). */
  evidence(): void {}

  /** The VIP guard took the VIP away on its own. */
  guardFired(): void {}

  handOver(_to: string, _reason: string): Promise<HandoverResult> {
    return Promise.reject(new NotOwnerError(this.m.name, this.m.facts.lastSeenHolder?.nodeId ?? null));
  }

  prepare(_from: string, _epoch: number): Promise<{ prepared: true }> {
    return Promise.reject(new HandoverError(`node ${this.m.d.nodeId} is ${this.name} for VIP ${this.m.name}`));
  }

  commit(_epoch: number): Promise<{ epoch: number }> {
    return Promise.reject(new HandoverError(`node ${this.m.d.nodeId} is ${this.name} for VIP ${this.m.name}, not receiving`));
  }

  abort(_from: string): Promise<{ aborted: boolean }> { return Promise.resolve({ aborted: false }); }

  /** Graceful stop: resolves once the machine is `stopped`. */
  abstract stop(): Promise<void>;
}
