/** What an owner holds its VIP on: Redis renewals, peer grants, the guard deadline (pure, numbers for time). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Authority } from '../../../../cluster/vip/authority';

const t = { ttlMs: 250, stepDownMarginMs: 50, grantTtlMs: 250, stallBudgetMs: 2000 };

test('Redis backs the VIP until the start of the last acknowledged renewal + ttl - margin', () => {
  const a = new Authority(t, 1000);
  assert.equal(a.redisUntilMs, 1200);
  a.renewed(1050);
  assert.equal(a.redisUntilMs, 1250);
  a.renewed(1010); // a slow answer to an older renewal never moves the deadline back
  assert.equal(a.redisUntilMs, 1250);
});

test('peers back it until the oldest grant of any peer that must grant runs out; with no peer to ask, only Redis does', () => {
  const a = new Authority(t, 0);
  assert.equal(a.peersUntilMs(['b', 'c']), -Infinity, 'nobody granted yet');
  a.answered('b', 1000, true);
  assert.equal(a.peersUntilMs(['b', 'c']), -Infinity, 'c has not granted');
  a.answered('c', 1020, true);
  assert.equal(a.peersUntilMs(['b', 'c']), 1200);
  a.answered('b', 1100, false);
  assert.equal(a.peersUntilMs(['b', 'c']), 1200, 'a refusal is no grant');
  assert.equal(a.peersUntilMs([]), -Infinity);
  assert.equal(a.untilMs([]), a.redisUntilMs);
  assert.equal(a.untilMs(['b', 'c']), 1200, 'the later of Redis and peers');
});

test('source says what backs the VIP at an instant', () => {
  const a = new Authority(t, 1000);
  a.answered('b', 1100, true);
  assert.equal(a.source(1150, ['b']), 'both');
  assert.equal(a.source(1250, ['b']), 'peers');
  assert.equal(a.source(1350, ['b']), 'none');
  a.renewed(1300);
  assert.equal(a.source(1350, ['b']), 'redis');
});

test('a re-assert over the peer link needs a grant from every peer for a beat sent after the stall', () => {
  const a = new Authority(t, 0);
  a.answered('b', 900, true);
  a.answered('c', 1010, true);
  assert.equal(a.allGrantedSince(['b', 'c'], 1000), false);
  a.answered('b', 1020, true);
  assert.equal(a.allGrantedSince(['b', 'c'], 1000), true);
});

test('the guard deadline is the last instant every standby saw the owner alive plus the stall budget', () => {
  const a = new Authority(t, 1000);
  assert.equal(a.guardUntilMs(['b']), 3000, 'from the renewal when b never answered');
  a.answered('b', 1500, false);
  assert.equal(a.guardUntilMs(['b']), 3500, 'any answer (even a refusal) proves b saw this beat');
  a.answered('c', 1200, true);
  assert.equal(a.guardUntilMs(['b', 'c']), 3200, 'the standby that saw the owner longest ago decides');
  a.renewed(1400);
  assert.equal(a.guardUntilMs(['b', 'c']), 3400, 'a renewal shows the owner alive to a standby that reads Redis');
});
