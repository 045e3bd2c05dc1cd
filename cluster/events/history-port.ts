/**
 * The one call every part of a node uses to put an event into the cluster
 * history: `record(event, once?)`. It never throws, never waits and never
 * touches the network on the caller's stack; the recorder (history-recorder.ts)
 * writes in the background, in order, and buffers while Redis is away.
 */
import type { HistoryInput } from '../../shared/history-event';

/**
 * Makes an event about the state of a subject count once for the whole
 * cluster: it is written only when the state recorded for `subject` differs
 * (`verdict:app/app-2` goes `down` once, however many nodes merge it), and
 * the new state is remembered.
 *
 * - mode `change` (default): written when the recorded state is not `state`;
 * - `unless`: also not written when the recorded state is one of `states`
 *   (a node that left is not "not seen" later);
 * - `only`: written only when the recorded state is one of `states`
 *   (a node is "back" only after it was "not seen");
 * - `always`: always written, and the state remembered (a node joins every time it starts).
 */
export interface OnceRule {
  subject: string;
  state: string;
  mode?: 'change' | 'unless' | 'only' | 'always';
  states?: readonly string[];
}

/** Where events go. */
export interface HistoryPort {
  /** Queues one event (its time is now unless `at` is given; its node this node unless given). */
  record(event: HistoryInput, once?: OnceRule): void;
}
