/**
 * Ownership across a Redis Sentinel failover (bind driver on 127.0.0.71):
 * the Redis master is killed; the owner, unable to renew, holds its VIP on
 * its peer's grant through the whole failover window; once a replica is
 * promoted it asserts its lease there at the same epoch. No client is
 * dropped, no new connection refused, never two owners.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../harness/cluster';
import { startSampler } from '../harness/ownership-sampler';
import { ReconnectingClient, handshake } from '../harness/ws-clients';
import { sleep, waitFor } from '../harness/ports';

const VIP = '127.0.0.71';

test('a Sentinel failover of Redis: the owner keeps the VIP on its peer\'s grant and re-asserts on the new master', { timeout: 90_000 }, async (t) => {
  const c = await startCluster({ n: 2, vipAddress: VIP, priorities: [200, 100], sentinel: true });
  t.after(() => c.close());
  const sampler = startSampler(c, 5);
  t.after(() => sampler.stop());
  assert.equal(await c.waitForOwner(), 'n1');
  await waitFor(async () => (await c.state('n2'))?.ready && (await c.state('n1'))?.vips[0]?.authority === 'both', 'n2 ready, n1 backed by Redis and by n2\'s grant', 10_000);
  const clients = Array.from({ length: 4 }, () => new ReconnectingClient(c.vip.url, 40));
  t.after(() => clients.forEach((cl) => cl.stop()));
  await Promise.all(clients.map((cl) => cl.start()));
  await waitFor(() => clients.every((cl) => cl.echoes > 2), 'echoes before the failover', 5000);
  const before = await c.lease();

  const killedAt = Date.now();
  c.sentinel!.master.kill();
  let refused = 0;
  let answered = 0;
  // Through the failover window: the VIP answers new connections all along.
  for (let i = 0; i < 2000 && Date.now() - killedAt < 30_000; i++) {
    const st = await c.state('n1');
    if ((await handshake(c.vip.url, 1000)).ok) answered++; else refused++;
    if (st?.vips[0]?.authority === 'both' && Date.now() - killedAt > 1000) break;
    await sleep(100);
  }
  const after = await c.lease();
  console.log(`# new master backs the VIP ${Date.now() - killedAt} ms after the master was killed; ${answered} handshakes answered, ${refused} refused meanwhile`);
  assert.equal(refused, 0, 'no new connection refused during the failover');
  assert.deepEqual(after, before, 'same owner, same epoch on the promoted replica');
  await sleep(500);
  for (const cl of clients) assert.equal(cl.connects, 1, 'no client was dropped');
  assert.equal(c.node('n1').proc!.logs.filter((l) => l.msg === 'ownership change' && l.from === 'n1').length, 0, 'n1 never stepped down');

  const r = await sampler.stop();
  assert.deepEqual(r.claimConflicts, []);
  assert.deepEqual(r.listenerOverlaps, []);
});
