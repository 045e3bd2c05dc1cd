import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerWheel, type WheelEntry } from '../../../node/timer-wheel';
import { ConnectionLimiter } from '../../../node/limits';
import { NODE_TRANSITIONS, createNodeState } from '../../../node/node-state';
import { nodeConfig, rawNodeConfig } from '../../fixtures/node-config';

function entry(timeoutMs: number): WheelEntry & { fired: number } {
  return { active: 0, idleMs: 0, timeoutMs, fired: 0, onWheelTimeout() { this.fired++; } };
}

test('timer wheel fires idle entries after their timeout and restarts active ones', () => {
  const w = new TimerWheel(100);
  const idle = entry(300);
  const busy = entry(300);
  const never = entry(0);
  w.track(idle); w.track(busy); w.track(never);
  for (let i = 0; i < 10; i++) { busy.active = 1; w.tick(); }
  assert.equal(idle.fired, 1, 'fired once, then untracked');
  assert.equal(busy.fired, 0);
  assert.equal(never.fired, 0);
  assert.equal(w.size, 2);
  w.untrack(busy); w.untrack(never);
  assert.equal(w.size, 0);
  w.stop();
});

test('connection limiter: per node 503, per client 429, release frees the slot', () => {
  const l = new ConnectionLimiter(nodeConfig(rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:1'], limits: { maxConnections: 3, maxConnectionsPerClient: 2 } })).limits);
  assert.equal(l.admit('a'), null);
  assert.equal(l.admit('a'), null);
  assert.equal(l.admit('a')?.httpStatus, 429);
  assert.equal(l.admit('b'), null);
  const e = l.admit('c');
  assert.equal(e?.httpStatus, 503);
  assert.equal(e?.code, 'WSHA_ERR_LIMIT');
  l.release('a');
  assert.equal(l.admit('c'), null);
  assert.equal(l.total, 3);
});

test('node lifecycle table: closed is final and reachable from everywhere', () => {
  for (const s of ['created', 'running', 'draining'] as const) assert.ok(NODE_TRANSITIONS[s].includes('closed'));
  assert.deepEqual(NODE_TRANSITIONS.closed, []);
  const m = createNodeState();
  m.transition('running', 't');
  assert.throws(() => m.transition('created', 't'), { code: 'WSHA_ERR_ILLEGAL_TRANSITION' });
});
