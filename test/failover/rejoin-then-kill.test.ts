/**
 * A pair where one node has just restarted when the other dies (bind driver on
 * 127.0.0.84): the restarted node was never counted on by the owner (the
 * owner's heartbeat lists no peers) and may have had no link to it yet, so no
 * death proof is possible; but nobody else is in the cluster who could grant
 * the dead owner anything, so its expired lease is taken: after the stall
 * budget at worst, never "until the owner is forgotten".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../harness/cluster';
import { startSampler } from '../harness/ownership-sampler';
import { handshake } from '../harness/ws-clients';

test('a node that restarted a moment before the owner died takes the VIP over', { timeout: 60_000 }, async (t) => {
  const c = await startCluster({ n: 2, vipAddress: '127.0.0.84', priorities: [200, 100] });
  t.after(() => c.close());
  assert.equal(await c.waitForOwner(), 'n1');
  await c.kill('n1');
  assert.equal(await c.waitForOwner((id) => id === 'n2', 5000), 'n2');
  // n2 is alone now: its heartbeat lists no peers. n1 comes back and n2 dies as soon as n1 has started.
  await c.start('n1');
  const sampler = startSampler(c, 5);
  t.after(() => sampler.stop());
  await c.kill('n2');
  const killedAt = Date.now();
  assert.equal(await c.waitForOwner((id) => id === 'n1', 15_000), 'n1', 'n1 takes the dead owner\'s VIP');
  t.diagnostic(`n1 owned the VIP ${Date.now() - killedAt} ms after n2 was killed`);
  assert.ok((await handshake(c.vip.url, 2000)).ok, 'and answers on it');
  const r = await sampler.stop();
  assert.deepEqual(r.claimConflicts, []);
});
