import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateMachine, IllegalTransitionError, type TransitionEvent } from '../../../shared/state-machine';

type S = 'a' | 'b' | 'c';
const TABLE = Object.freeze({ a: ['b'], b: ['a', 'c'], c: [] }) as Readonly<Record<S, readonly S[]>>;

test('transitions follow the table; listeners added later see later moves, and stop after unsubscribing', () => {
  const sm = new StateMachine<S>('m', 'a', TABLE);
  // No listener yet (a tunnel's machine never has one): moves still work.
  sm.transition('b', 'first');
  assert.equal(sm.state, 'b');
  const seen: Array<TransitionEvent<S>> = [];
  const off = sm.onTransition((e) => seen.push(e));
  sm.transition('a', 'back');
  off();
  sm.transition('b', 'again');
  assert.deepEqual(seen.map((e) => [e.from, e.to, e.reason]), [['b', 'a', 'back']]);
  sm.transition('b', 'same state is a no-op');
  sm.transition('c', 'end');
  assert.throws(() => sm.transition('a', 'illegal'), IllegalTransitionError);
  assert.equal(sm.state, 'c');
});
