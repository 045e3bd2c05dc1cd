/**
 * Ownership when Redis is unreachable (bind driver on 127.0.0.66), the rule
 * of deploy/docs/ownership.md: the owner steps down at its own deadline
 * (no node can prove ownership, so none serves the VIP: never two), the VIP
 * comes back with a higher epoch once Redis does, also when Redis restarts
 * empty.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../harness/cluster';
import { startSampler } from '../harness/ownership-sampler';
import { startRedis } from '../harness/redis';
import { handshake } from '../harness/ws-clients';
import { sleep, waitFor } from '../harness/ports';

const VIP = '127.0.0.66';

test('Redis unreachable: the owner steps down at its deadline, nobody owns, the VIP returns with Redis', { timeout: 60_000 }, async (t) => {
  const c = await startCluster({ n: 2, vipAddress: VIP, priorities: [200, 100] });
  t.after(() => c.close());
  const sampler = startSampler(c, 5);
  t.after(() => sampler.stop());
  assert.equal(await c.waitForOwner(), 'n1');
  await waitFor(async () => (await c.state('n2'))?.ready, 'n2 ready', 10_000);

  await t.test('Redis frozen 2 s (SIGSTOP): step-down on the monotonic clock, then back', async () => {
    const before = await c.lease();
    const frozenAt = Date.now();
    c.redis.proc.kill('SIGSTOP');
    let resumed = false;
    t.after(() => { if (!resumed) c.redis.proc.kill('SIGCONT'); });
    const down = await waitFor(() => c.node('n1').proc!.logs.find((l) => l.msg === 'ownership change' && l.from === 'n1' && Date.parse(l.time) >= frozenAt), 'n1 steps down', 5000);
    const afterMs = Date.parse(down.time) - frozenAt;
    console.log(`# owner stepped down ${afterMs} ms after Redis froze (reason ${down.reason})`);
    assert.equal(down.reason, 'renew-deadline');
    assert.ok(afterMs >= 400, 'not before its lease could have expired minus the margin');
    assert.ok(afterMs <= 1500, 'at its deadline, not much later');
    await sleep(300);
    const st = await Promise.all([c.state('n1'), c.state('n2')]);
    for (const s of st) assert.equal(s!.vips[0]!.claims, false, `${s!.node} does not claim the VIP without Redis`);
    assert.equal((await handshake(c.vip.url, 300)).ok, false, 'nobody serves the VIP');
    await sleep(Math.max(0, 2000 - (Date.now() - frozenAt)));
    c.redis.proc.kill('SIGCONT');
    resumed = true;
    await c.waitForOwner(() => true, 10_000);
    const after = await c.lease();
    assert.ok(after!.epoch > before!.epoch, 'a new epoch');
    await waitFor(async () => (await handshake(c.vip.url, 500)).ok, 'the VIP answers again', 5000);
  });

  await t.test('Redis restarted empty: the VIP returns with an epoch above every one seen', async () => {
    const before = await c.lease();
    // Both nodes must have learnt the current epoch (event or poll) before Redis forgets it.
    await waitFor(async () => {
      const st = await Promise.all([c.state('n1'), c.state('n2')]);
      return st.every((s) => s?.vips[0]?.epoch === before!.epoch || s?.vips[0]?.holder?.epoch === before!.epoch);
    }, 'both nodes know the current epoch', 5000);
    const port = c.redis.port;
    c.redis.kill();
    await sleep(300);
    const fresh = await startRedis([], port);
    t.after(() => fresh.stop());
    await waitFor(async () => { try { return (await c.client.ping()) === 'PONG'; } catch { return false; } }, 'client reconnects', 10_000);
    await c.waitForOwner(() => true, 15_000);
    const after = await c.lease();
    assert.ok(after!.epoch > before!.epoch, `epoch ${after!.epoch} > ${before!.epoch} although Redis lost the counter`);
  });

  await t.test('the sampler saw no two owners at any instant', async () => {
    const r = await sampler.stop();
    assert.deepEqual(r.claimConflicts, []);
    assert.deepEqual(r.listenerOverlaps, []);
  });
});
