/**
 * Unplanned takeover with real node processes (bind driver on 127.0.0.61):
 * kill -9 of the owner -> the standby answers WebSocket handshakes on the
 * VIP within a generous bound (the gap is printed); clients reconnect and
 * keep exchanging messages; an owner paused 500 ms (SIGSTOP) keeps the VIP.
 * The sampler runs throughout: never two owners, never two listeners.
 *
 * The owner's data plane runs in worker processes: during the few ms the
 * kernel takes to tear down its SIGKILLed control process, a worker may
 * still answer a handshake (its tunnel is destroyed when the worker exits a
 * moment later). Those answers are not the new owner's and are not counted;
 * the workers must be gone within ORPHAN_EXIT_MS of the kill.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../harness/cluster';
import { startSampler } from '../harness/ownership-sampler';
import { ReconnectingClient, handshake } from '../harness/ws-clients';
import { sleep, waitFor } from '../harness/ports';
import { pidAlive } from '../harness/workers';

const VIP = '127.0.0.61';
/** Generous bound for a loaded shared machine; the design target is a 100 ms median (see the benchmark). */
const TAKEOVER_BOUND_MS = 1500;
/** A worker whose control process was killed must have exited within this bound. */
const ORPHAN_EXIT_MS = 500;

test('kill -9 of the owner, clients reconnect, and a 500 ms stall keeps the VIP', { timeout: 60_000 }, async (t) => {
  const c = await startCluster({ n: 2, vipAddress: VIP, priorities: [200, 100] });
  t.after(() => c.close());
  const sampler = startSampler(c, 5);
  t.after(() => sampler.stop());

  assert.equal(await c.waitForOwner(), 'n1', 'the higher priority node owns the VIP first');
  const clients = Array.from({ length: 5 }, () => new ReconnectingClient(c.vip.url, 40));
  t.after(() => clients.forEach((cl) => cl.stop()));
  await Promise.all(clients.map((cl) => cl.start()));
  await waitFor(() => clients.every((cl) => cl.echoes > 2), 'echoes before the kill', 5000);

  await t.test('kill -9: the standby serves the VIP', async () => {
    const before = await c.lease();
    const workers: number[] = c.node('n1').proc!.logs.find((l) => l.msg === 'workers started')?.pids ?? [];
    assert.ok(workers.length > 0, 'n1 logged its worker pids');
    const killedAt = performance.now();
    c.node('n1').proc!.proc.kill('SIGKILL');
    let gap = -1;
    let workersGoneMs = -1;
    for (let i = 0; i < 20_000 && performance.now() - killedAt < 10_000; i++) {
      if (workersGoneMs < 0 && workers.every((p) => !pidAlive(p))) workersGoneMs = performance.now() - killedAt;
      const r = await handshake(c.vip.url, 300);
      if (r.ok && workersGoneMs >= 0) { gap = performance.now() - killedAt; break; }
      await sleep(1);
    }
    console.log(`# takeover gap after SIGKILL: ${gap.toFixed(1)} ms (kill -> first WebSocket handshake answered by the new owner); n1's workers gone after ${workersGoneMs.toFixed(1)} ms`);
    assert.ok(workersGoneMs >= 0 && workersGoneMs < ORPHAN_EXIT_MS, `n1's workers exited ${workersGoneMs.toFixed(0)} ms after the kill (< ${ORPHAN_EXIT_MS} ms)`);
    assert.ok(gap >= 0, 'the VIP came back');
    assert.ok(gap < TAKEOVER_BOUND_MS, `gap ${gap.toFixed(0)} ms < ${TAKEOVER_BOUND_MS} ms`);
    const after = await c.lease();
    assert.equal(after?.nodeId, 'n2');
    assert.ok(after!.epoch > before!.epoch, 'a new fencing epoch');
    const log = c.node('n2').proc!.logs.find((l) => l.msg === 'ownership change' && l.to === 'n2');
    assert.equal(log?.reason, 'peer-dead', 'the peer link (not the lease TTL) triggered the takeover');
  });

  await t.test('clients connected before the kill reconnect and keep exchanging messages', async () => {
    const since = Date.now();
    await waitFor(() => clients.every((cl) => cl.echoesAfter(since) > 3), 'echoes after the takeover', 10_000);
    for (const cl of clients) assert.ok(cl.connects >= 2, 'each client reconnected');
  });

  await t.test('an owner stalled 500 ms (SIGSTOP) keeps the VIP', async () => {
    await c.start('n1'); // back as a standby (preempt off)
    await waitFor(async () => (await c.state('n1'))?.ready && (await c.state('n2'))?.peersLinked.includes('n1'), 'n1 ready and linked', 10_000);
    const before = await c.lease();
    const steppedDown = () => c.node('n2').proc!.logs.filter((l) => l.msg === 'ownership change' && l.from === 'n2').length;
    const downs = steppedDown();
    const connects = clients.map((cl) => cl.connects);
    c.pause('n2');
    await sleep(500);
    c.resume('n2');
    await sleep(1500);
    const after = await c.lease();
    assert.deepEqual(after, before, 'same owner, same epoch');
    const st2 = await c.state('n2');
    assert.equal(st2!.vips[0]!.state, 'owner');
    assert.equal(steppedDown(), downs, 'n2 never stepped down (it re-asserted after the stall)');
    assert.deepEqual(clients.map((cl) => cl.connects), connects, 'no client was dropped');
    assert.ok((await handshake(c.vip.url, 1000)).ok);
  });

  await t.test('the sampler saw one owner and one listener at every instant', async () => {
    const r = await sampler.stop();
    console.log(`# sampler: ${r.rounds} rounds, max epoch ${r.maxEpoch}, listener overlaps ${r.listenerOverlaps.length}`);
    assert.ok(r.rounds > 100);
    assert.deepEqual(r.claimConflicts, []);
    assert.deepEqual(r.listenerOverlaps, []);
    assert.deepEqual(r.epochWentDown, []);
  });
});
