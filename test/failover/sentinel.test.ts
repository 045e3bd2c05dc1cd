/**
 * Ownership across a Redis Sentinel failover (bind driver on 127.0.0.71):
 * the Redis master is killed; the owner, unable to renew, steps down at its
 * deadline; after the replica is promoted every node reconnects, waits one
 * lease TTL (a lease written just before the failover may not have
 * replicated), and the VIP comes back with a higher epoch. Never two owners.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../harness/cluster';
import { startSampler } from '../harness/ownership-sampler';
import { handshake } from '../harness/ws-clients';
import { waitFor } from '../harness/ports';

const VIP = '127.0.0.71';

test('a Sentinel failover of Redis: step-down, then the VIP returns with a higher epoch', { timeout: 60_000 }, async (t) => {
  const c = await startCluster({ n: 2, vipAddress: VIP, priorities: [200, 100], sentinel: true });
  t.after(() => c.close());
  const sampler = startSampler(c, 5);
  t.after(() => sampler.stop());
  assert.equal(await c.waitForOwner(), 'n1');
  await waitFor(async () => (await c.state('n2'))?.ready, 'n2 ready', 10_000);
  const before = await c.lease();

  const killedAt = Date.now();
  c.sentinel!.master.kill();
  const down = await waitFor(() => c.node('n1').proc!.logs.find((l) => l.msg === 'ownership change' && l.from === 'n1' && Date.parse(l.time) >= killedAt), 'n1 steps down', 5000);
  assert.equal(down.reason, 'renew-deadline');
  const owner = await c.waitForOwner(() => true, 40_000);
  const after = await c.lease();
  console.log(`# VIP back on ${owner} ${Date.now() - killedAt} ms after the master was killed, epoch ${before!.epoch} -> ${after!.epoch}`);
  assert.ok(after!.epoch > before!.epoch);
  const quiet = [...c.node('n1').proc!.logs, ...c.node('n2').proc!.logs].some((l) => /lease connection re-established/.test(l.msg));
  assert.ok(quiet, 'nodes held back for one TTL after reconnecting');
  await waitFor(async () => (await handshake(c.vip.url, 500)).ok, 'the VIP answers', 5000);

  const r = await sampler.stop();
  assert.deepEqual(r.claimConflicts, []);
  assert.deepEqual(r.listenerOverlaps, []);
});
