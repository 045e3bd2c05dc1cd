/**
 * The node's lifecycle machine: created -> running -> draining -> closed.
 * `closed` is reachable from every state (destroy), and nothing leaves it.
 */
import type { Logger } from 'pino';
import { StateMachine, type TransitionTable } from '../shared/state-machine';

/** Lifecycle states of a proxy node. */
export const NODE_STATES = ['created', 'running', 'draining', 'closed'] as const;
/** One lifecycle state of a proxy node. */
export type NodeState = (typeof NODE_STATES)[number];

/** Legal moves between node states. */
export const NODE_TRANSITIONS: TransitionTable<NodeState> = Object.freeze({
  created: ['running', 'closed'],
  running: ['draining', 'closed'],
  draining: ['closed'],
  closed: [],
});

/** Creates the lifecycle machine of one node. */
export function createNodeState(log?: Logger): StateMachine<NodeState> {
  return new StateMachine<NodeState>('node', 'created', NODE_TRANSITIONS, log);
}
