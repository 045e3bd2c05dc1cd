/**
 * A stalled owner (SIGSTOP of its node process, bind driver on 127.0.0.69;
 * its host's kernel keeps answering): a stall shorter than the stall budget
 * never moves the VIP and drops no client (the owner re-asserts when it runs
 * again); a longer one is replaced once the budget (plus the guard's lead)
 * ran out, the stalled process's listener having been taken away by its VIP
 * guard first, so that two processes never listen on the VIP at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../harness/cluster';
import { startSampler } from '../harness/ownership-sampler';
import { ReconnectingClient, handshake } from '../harness/ws-clients';
import { sleep, waitFor } from '../harness/ports';
import { DEFAULTS } from '../../shared/config/defaults';

const VIP = '127.0.0.69';

test('a stalled owner keeps the VIP within the stall budget and is replaced past it', { timeout: 60_000 }, async (t) => {
  const c = await startCluster({ n: 2, vipAddress: VIP, priorities: [200, 100] });
  t.after(() => c.close());
  const sampler = startSampler(c, 5);
  t.after(() => sampler.stop());
  assert.equal(await c.waitForOwner(), 'n1');
  await waitFor(async () => (await c.state('n2'))?.ready && (await c.state('n1'))?.peersLinked.includes('n2'), 'n2 ready and linked', 10_000);
  const clients = Array.from({ length: 4 }, () => new ReconnectingClient(c.vip.url, 40));
  t.after(() => clients.forEach((cl) => cl.stop()));
  await Promise.all(clients.map((cl) => cl.start()));
  await waitFor(() => clients.every((cl) => cl.echoes > 2), 'echoes before the stall', 5000);

  let resumed = true;
  t.after(() => { if (!resumed) c.resume('n1'); });

  await t.test('a 1.5 s stall: same owner, same epoch, no client dropped', async () => {
    const before = await c.lease();
    c.pause('n1');
    resumed = false;
    await sleep(1500);
    c.resume('n1');
    resumed = true;
    await sleep(500);
    assert.deepEqual(await c.lease(), before);
    assert.equal((await c.state('n1'))!.vips[0]!.state, 'owner');
    const since = Date.now();
    await waitFor(() => clients.every((cl) => cl.echoesAfter(since) > 2), 'messages flow after the stall', 5000);
    for (const cl of clients) assert.equal(cl.connects, 1, 'no client was dropped');
    const waited = c.node('n2').proc!.logs.find((l) => l.msg === 'standby decision' && l.decision === 'wait:holder-stalled');
    assert.ok(waited, 'the standby saw a stall (process quiet, host answering) and waited');
    assert.equal(waited.evidence.kernel, 'answering');
  });

  await t.test('a 4 s stall: the standby takes over after the budget, the guard having taken the listener first', async () => {
    const before = await c.lease();
    const frozenAt = performance.now();
    c.pause('n1');
    resumed = false;
    const owner = await waitFor(async () => ((await c.owner()) === 'n2' ? 'n2' : null), 'n2 takes the lease', 8000, 10);
    const tookMs = performance.now() - frozenAt;
    console.log(`# stalled owner replaced after ${tookMs.toFixed(0)} ms (stall budget ${DEFAULTS.lease.stallBudgetMs} ms)`);
    assert.equal(owner, 'n2');
    assert.ok(tookMs >= DEFAULTS.lease.stallBudgetMs - DEFAULTS.peer.beatIntervalMs, 'not before the stall budget');
    assert.ok(tookMs < DEFAULTS.lease.stallBudgetMs + 2000, 'soon after it (generous bound)');
    const change = await waitFor(() => c.node('n2').proc!.logs.find((l) => l.msg === 'ownership change' && l.to === 'n2'), 'n2 log', 2000);
    assert.equal(change.reason, 'holder-stall-budget-spent');
    assert.ok((await c.lease())!.epoch > before!.epoch);
    await waitFor(async () => (await handshake(c.vip.url, 500)).ok, 'n2 serves', 3000);
    await sleep(Math.max(0, 4000 - (performance.now() - frozenAt)));
    c.resume('n1');
    resumed = true;
    await waitFor(() => c.node('n1').proc!.logs.find((l) => l.msg === 'ownership change' && l.from === 'n1'), 'n1 steps down after resuming', 5000);
    await waitFor(async () => (await c.state('n1'))?.vips[0]?.serving === false, 'n1 no longer listens', 3000);
    assert.equal(await c.owner(), 'n2');
    assert.ok(c.node('n1').proc!.logs.some((l) => /VIP guard took the VIP away/.test(l.msg)), 'n1 learnt that its guard had acted');
  });

  await t.test('never two owners, never two listeners', async () => {
    const r = await sampler.stop();
    console.log(`# sampler: ${r.rounds} rounds; listener overlaps: ${r.listenerOverlaps.map((o) => o.durationMs.toFixed(0)).join(', ') || 'none'}`);
    assert.deepEqual(r.claimConflicts, []);
    assert.deepEqual(r.epochWentDown, []);
    assert.deepEqual(r.listenerOverlaps, []);
  });
});
