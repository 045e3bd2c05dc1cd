/**
 * Planned handover with real node processes (bind driver on 127.0.0.63):
 * under continuous connection attempts no attempt fails, every WebSocket
 * client sees 1012 and reconnects, the closes are spread over the window,
 * and the make-before-break overlap stays bounded; drain hands the VIP
 * back; a handover to a drained, unready or dead node is refused with its
 * reason and nothing moves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../harness/cluster';
import { startSampler } from '../harness/ownership-sampler';
import { ReconnectingClient, handshake } from '../harness/ws-clients';
import { sleep, waitFor } from '../harness/ports';
import { failover } from '../../cluster/control/failover';
import { drain, undrain } from '../../cluster/control/drain';
import { HandoverError } from '../../shared/errors';

const VIP = '127.0.0.63';
const WINDOW_MS = 1000;
const MAX_OVERLAP_MS = 1000;

/** Handshakes back to back until stopped; every failure is kept. */
function attemptLoop(url: string) {
  let running = true;
  const failures: string[] = [];
  let attempts = 0;
  const done = (async () => {
    for (let i = 0; running && i < 100_000; i++) {
      attempts++;
      const r = await handshake(url, 2000);
      if (!r.ok) failures.push(r.err ?? 'failed');
      await sleep(2);
    }
  })();
  return { stop: async () => { running = false; await done; return { attempts, failures }; } };
}

test('planned handover, drain and refused handovers', { timeout: 60_000 }, async (t) => {
  const c = await startCluster({ n: 2, vipAddress: VIP, priorities: [200, 100], handover: { closeWindowMs: WINDOW_MS, closeRatePerSec: 1000, maxOverlapMs: MAX_OVERLAP_MS } });
  t.after(() => c.close());
  const sampler = startSampler(c, 5);
  t.after(() => sampler.stop());
  assert.equal(await c.waitForOwner(), 'n1');
  await waitFor(async () => (await c.state('n2'))?.ready, 'n2 ready', 10_000);
  await sleep(300); // n2's heartbeat shows it ready to the pre-flight

  await t.test('failover --to n2 under load: nothing refused, 1012 to every client, closes spread', async () => {
    const clients = Array.from({ length: 20 }, () => new ReconnectingClient(c.vip.url, 100));
    t.after(() => clients.forEach((cl) => cl.stop()));
    await Promise.all(clients.map((cl) => cl.start()));
    const loops = [attemptLoop(c.vip.url), attemptLoop(c.vip.url)];
    await sleep(200);
    const before = await c.lease();
    const r = await failover(c.client, c.keys, { vip: 'main', to: 'n2', timeoutMs: 5000 });
    console.log(`# handover: ${JSON.stringify(r)}`);
    assert.equal(r.oldOwner, 'n1');
    assert.equal(r.newOwner, 'n2');
    assert.ok(r.epoch > before!.epoch);
    assert.ok(r.closing! >= 20, 'the 20 clients (and any probe in flight) are being closed');
    assert.ok(r.overlapMs! <= MAX_OVERLAP_MS);
    await sleep(WINDOW_MS + 800);
    const results = await Promise.all(loops.map((l) => l.stop()));
    const attempts = results.reduce((n, x) => n + x.attempts, 0);
    const failures = results.flatMap((x) => x.failures);
    console.log(`# connection attempts during the handover: ${attempts}, failed: ${failures.length} ${failures.slice(0, 5).join(',')}`);
    assert.ok(attempts > 20);
    assert.deepEqual(failures, [], 'no connection attempt refused or reset');
    const closes = clients.map((cl) => cl.closes[0]);
    for (const cl of closes) assert.equal(cl?.code, 1012);
    const times = closes.map((x) => x!.atMs);
    const spread = Math.max(...times) - Math.min(...times);
    console.log(`# 1012 closes spread over ${spread} ms (window ${WINDOW_MS} ms)`);
    assert.ok(spread >= WINDOW_MS * 0.4, `closes spread over ${spread} ms`);
    assert.ok(spread <= WINDOW_MS + 1000);
    await waitFor(() => clients.every((cl) => cl.connects >= 2 && cl.echoesAfter(Math.max(...times)) > 0), 'clients back and echoing', 10_000);
    assert.equal(await c.owner(), 'n2');
  });

  await t.test('drain n2 hands the VIP back to n1; n2 stays drained', async () => {
    const results = await drain(c.client, c.keys, 'n2', { timeoutMs: 5000 });
    assert.equal(results.length, 1);
    assert.equal(results[0]!.oldOwner, 'n2');
    assert.equal(results[0]!.newOwner, 'n1');
    assert.equal(await c.waitForOwner((id) => id === 'n1'), 'n1');
    await waitFor(async () => (await c.state('n2'))?.drained, 'n2 drained', 5000);
  });

  await t.test('a handover to a drained node is refused with the reason, nothing moves', async () => {
    await sleep(300);
    const before = await c.lease();
    await assert.rejects(failover(c.client, c.keys, { vip: 'main', to: 'n2', timeoutMs: 3000 }), (err: Error) => err instanceof HandoverError && /drained/.test(err.message));
    await assert.rejects(failover(c.client, c.keys, { vip: 'main', timeoutMs: 3000 }), (err: Error) => err instanceof HandoverError && /no eligible target.*n2 is drained/.test(err.message));
    assert.deepEqual(await c.lease(), before);
    const h = await handshake(c.vip.url, 1000);
    assert.ok(h.ok, `the VIP still answers (${h.err})`);
  });

  await t.test('a handover to an unready node is refused (its heartbeat says not ready)', async () => {
    // A node that heartbeats but has not passed its readiness gate; written as that node would.
    const now = Date.now();
    const rec = { id: 'n9', address: '127.0.0.1', admin: '127.0.0.1:1', peer: '127.0.0.1:1', priority: 250, role: 'standby', state: 'starting', ready: false, drained: false, version: '0', startedAt: now, sentAt: now, connections: 0, vips: [], backendsDown: [] };
    await c.client.set(c.keys.node('n9'), JSON.stringify(rec), 'PX', 5000);
    await c.client.zadd(c.keys.nodes(), now, 'n9');
    await assert.rejects(failover(c.client, c.keys, { vip: 'main', to: 'n9', timeoutMs: 3000 }), (err: Error) => err instanceof HandoverError && /not ready/.test(err.message));
    await c.client.del(c.keys.node('n9'));
    await c.client.zrem(c.keys.nodes(), 'n9');
  });

  await t.test('undrain n2; SIGTERM of the owner hands the VIP over first: no attempt fails', async () => {
    const u = await undrain(c.client, c.keys, 'n2');
    assert.equal(u.wasDrained, true);
    await waitFor(async () => (await c.state('n2'))?.drained === false, 'n2 undrained', 5000);
    await sleep(300);
    const loops = [attemptLoop(c.vip.url), attemptLoop(c.vip.url)];
    await sleep(200);
    await c.kill('n1', 'SIGTERM');
    assert.equal(await c.waitForOwner((id) => id === 'n2', 5000), 'n2');
    await sleep(300);
    const results = await Promise.all(loops.map((l) => l.stop()));
    const failures = results.flatMap((x) => x.failures);
    console.log(`# connection attempts across the SIGTERM handover: ${results.reduce((n, x) => n + x.attempts, 0)}, failed: ${failures.length} ${failures.slice(0, 5).join(',')}`);
    if (failures.length) for (const id of ['n1', 'n2']) for (const l of c.node(id).proc!.logs.slice(-40)) console.log(id, l.time, l.msg, JSON.stringify({ r: l.reason, why: l.why, err: l.err, from: l.from, to: l.to }));
    assert.deepEqual(failures, []);
    assert.ok(c.node('n1').proc!.logs.some((l) => l.msg === 'shutdown: VIP handed over'));
  });

  await t.test('a handover to a stopped node is refused; draining it marks it drained for its restart', async () => {
    await assert.rejects(failover(c.client, c.keys, { vip: 'main', to: 'n1', timeoutMs: 3000 }), (err: Error) => err instanceof HandoverError && /n1 is down/.test(err.message));
    assert.equal(await c.owner(), 'n2');
    assert.deepEqual(await drain(c.client, c.keys, 'n1'), []);
    assert.equal(await c.client.sismember(c.keys.drained(), 'n1'), 1);
    await c.start('n1');
    await waitFor(async () => (await c.state('n1'))?.drained, 'n1 comes back drained', 5000);
  });

  await t.test('the sampler: never two owners; two listeners only during the bounded handover overlap', async () => {
    const r = await sampler.stop();
    console.log(`# sampler: ${r.rounds} rounds; listener overlaps (ms): ${r.listenerOverlaps.map((o) => o.durationMs.toFixed(1)).join(', ')}`);
    assert.deepEqual(r.claimConflicts, []);
    assert.deepEqual(r.epochWentDown, []);
    assert.ok(r.listenerOverlaps.length <= 3, 'at most one overlap per planned handover');
    for (const o of r.listenerOverlaps) assert.ok(o.durationMs <= MAX_OVERLAP_MS + 200, `overlap ${o.durationMs} ms`);
  });
});
