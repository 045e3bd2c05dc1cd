/**
 * A silent owner (SIGSTOP for 3 s, bind driver on 127.0.0.69): the standby
 * takes the VIP after the lease TTL, about a second; when the frozen owner
 * runs again its belief has expired on its own clock and it steps down at
 * once. Never two owners. (A frozen process keeps its listening socket open
 * in the kernel, so two listeners exist during the freeze: the sampler must
 * see exactly that and no other overlap.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../harness/cluster';
import { startSampler } from '../harness/ownership-sampler';
import { handshake } from '../harness/ws-clients';
import { sleep, waitFor } from '../harness/ports';

const VIP = '127.0.0.69';
const FREEZE_MS = 3000;

test('a frozen owner is replaced after the TTL and steps down when it runs again', { timeout: 40_000 }, async (t) => {
  const c = await startCluster({ n: 2, vipAddress: VIP, priorities: [200, 100] });
  t.after(() => c.close());
  const sampler = startSampler(c, 5);
  t.after(() => sampler.stop());
  assert.equal(await c.waitForOwner(), 'n1');
  await waitFor(async () => (await c.state('n2'))?.ready, 'n2 ready', 10_000);
  await sleep(300);
  const before = await c.lease();

  const frozenAt = performance.now();
  c.pause('n1');
  let resumed = false;
  t.after(() => { if (!resumed) c.resume('n1'); });
  const owner = await waitFor(async () => ((await c.owner()) === 'n2' ? 'n2' : null), 'n2 takes the lease', 5000, 5);
  const tookMs = performance.now() - frozenAt;
  console.log(`# silent owner replaced after ${tookMs.toFixed(0)} ms (lease TTL path)`);
  assert.equal(owner, 'n2');
  assert.ok(tookMs < 2500, 'within about a second (TTL + poll), generous bound');
  const change = await waitFor(() => c.node('n2').proc!.logs.find((l) => l.msg === 'ownership change' && l.to === 'n2'), 'n2 log', 2000);
  assert.equal(change.reason, 'lease-expired');
  assert.ok((await c.lease())!.epoch > before!.epoch);

  await sleep(Math.max(0, FREEZE_MS - (performance.now() - frozenAt)));
  c.resume('n1');
  resumed = true;
  const down = await waitFor(() => c.node('n1').proc!.logs.find((l) => l.msg === 'ownership change' && l.from === 'n1'), 'n1 steps down after resuming', 5000);
  assert.equal(down.reason, 'renew-deadline');
  await waitFor(async () => (await c.state('n1'))?.vips[0]?.serving === false, 'n1 stops listening', 3000);
  assert.equal(await c.owner(), 'n2');
  assert.ok((await handshake(c.vip.url, 1000)).ok);

  const r = await sampler.stop();
  console.log(`# sampler: ${r.rounds} rounds; listener overlaps (ms): ${r.listenerOverlaps.map((o) => o.durationMs.toFixed(0)).join(', ')}`);
  assert.deepEqual(r.claimConflicts, [], 'never two owners, also when the frozen one runs again');
  assert.deepEqual(r.epochWentDown, []);
  for (const o of r.listenerOverlaps) {
    assert.ok(o.pids.includes(c.node('n1').proc!.pid), 'the only second listener is the frozen process');
    assert.ok(o.durationMs <= FREEZE_MS + 1000);
  }
});
