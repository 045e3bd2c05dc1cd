/**
 * Ownership when Redis is unreachable (bind driver on 127.0.0.66), the rules
 * of deploy/docs/ownership.md: with the peer link up, the owner keeps its VIP
 * on its peer's grant through a Redis freeze and a Redis restart that lost
 * every key (it re-asserts the same epoch), and no client is dropped; with
 * the peer gone too, the owner steps down at its deadline (safety wins) and
 * the VIP comes back with Redis.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../harness/cluster';
import { startSampler } from '../harness/ownership-sampler';
import { startRedis } from '../harness/redis';
import { ReconnectingClient, handshake } from '../harness/ws-clients';
import { sleep, waitFor } from '../harness/ports';
import { connect } from 'node:net';

const VIP = '127.0.0.66';

test('Redis unreachable: the owner rides on its peer\'s grant; without the peer it steps down', { timeout: 90_000 }, async (t) => {
  const c = await startCluster({ n: 2, vipAddress: VIP, priorities: [200, 100] });
  t.after(() => c.close());
  const sampler = startSampler(c, 5);
  t.after(() => sampler.stop());
  assert.equal(await c.waitForOwner(), 'n1');
  await waitFor(async () => (await c.state('n2'))?.ready, 'n2 ready', 10_000);
  await waitFor(async () => (await c.state('n1'))?.vips[0]?.authority === 'both', 'n1 backed by Redis and by n2\'s grant', 10_000);
  const clients = Array.from({ length: 5 }, () => new ReconnectingClient(c.vip.url, 40));
  t.after(() => clients.forEach((cl) => cl.stop()));
  await Promise.all(clients.map((cl) => cl.start()));
  await waitFor(() => clients.every((cl) => cl.echoes > 2), 'echoes before the outage', 5000);
  /** The Redis process of the moment (the second subtest replaces it). */
  let redis = c.redis;

  await t.test('Redis frozen 3 s (SIGSTOP): the owner keeps the VIP on the grant, no client dropped, new connections answered', async () => {
    const before = await c.lease();
    redis.proc.kill('SIGSTOP');
    let resumed = false;
    t.after(() => { if (!resumed) redis.proc.kill('SIGCONT'); });
    await sleep(800);
    const st = await c.state('n1');
    assert.equal(st!.vips[0]!.state, 'owner');
    assert.equal(st!.vips[0]!.claims, true);
    assert.equal(st!.vips[0]!.authority, 'peers', 'held on the peer grant alone');
    for (let i = 0; i < 5; i++) assert.equal((await handshake(c.vip.url, 1000)).ok, true, 'a new connection is answered during the outage');
    const since = Date.now();
    await waitFor(() => clients.every((cl) => cl.echoesAfter(since) > 2), 'messages keep flowing', 5000);
    await sleep(2000);
    redis.proc.kill('SIGCONT');
    resumed = true;
    await waitFor(async () => (await c.state('n1'))?.vips[0]?.authority === 'both', 'Redis backs the VIP again', 5000);
    assert.deepEqual(await c.lease(), before, 'same owner, same epoch');
    for (const cl of clients) assert.equal(cl.connects, 1, 'no client was dropped');
    assert.equal(c.node('n1').proc!.logs.filter((l) => l.msg === 'ownership change' && l.from === 'n1').length, 0, 'n1 never stepped down');
  });

  await t.test('Redis restarted empty: the owner re-asserts its epoch and the counter learns it back', async () => {
    const before = await c.lease();
    const port = redis.port;
    redis.kill();
    await sleep(1500);
    const fresh = await startRedis([], port);
    t.after(() => fresh.stop());
    redis = fresh;
    await waitFor(async () => { try { return (await c.client.ping()) === 'PONG'; } catch { return false; } }, 'client reconnects', 10_000);
    await waitFor(async () => (await c.lease())?.nodeId === 'n1', 'the lease is back', 10_000);
    assert.deepEqual(await c.lease(), before, 'the same owner at the same epoch');
    assert.equal(Number(await c.client.get(c.keys.epoch('main'))), before!.epoch, 'epochs never go down');
    for (const cl of clients) assert.equal(cl.connects, 1, 'no client was dropped');
    // The lease is in Redis before the log line that reports it has crossed the pipe.
    await waitFor(() => [...c.node('n1').proc!.logs, ...c.node('n2').proc!.logs].some((l) => /re-asserted/.test(l.msg)), 'the owner, or its peer on its behalf, logged the re-assert', 3000);
  });

  await t.test('Redis and the peer both gone: the owner steps down at its deadline, nobody serves, the VIP returns with Redis', async () => {
    // A keep-alive HTTP connection open before: after the deadline it carries no request to a backend.
    const keepAlive = connect(c.vip.port, VIP);
    await new Promise((r) => keepAlive.once('connect', r));
    const responses: string[] = [];
    let closedByServer = false;
    keepAlive.on('data', (d) => responses.push(d.toString()));
    keepAlive.on('close', () => { closedByServer = true; });
    keepAlive.on('error', () => {});
    t.after(() => keepAlive.destroy());
    keepAlive.write('GET /before HTTP/1.1\r\nHost: vip\r\n\r\n');
    await waitFor(() => responses.join('').includes('HTTP/1.1 200'), 'the first request answered', 5000);
    await c.kill('n2');
    const frozenAt = Date.now();
    redis.proc.kill('SIGSTOP');
    let resumed = false;
    t.after(() => { if (!resumed) redis.proc.kill('SIGCONT'); });
    const down = await waitFor(() => c.node('n1').proc!.logs.find((l) => l.msg === 'ownership change' && l.from === 'n1' && Date.parse(l.time) >= frozenAt), 'n1 steps down', 5000);
    assert.equal(down.reason, 'authority-expired');
    assert.ok(Date.parse(down.time) - frozenAt <= 1500, 'at its deadline, not much later');
    const seenBefore = c.backends[0]!.seen.length;
    if (!closedByServer) keepAlive.write('GET /after HTTP/1.1\r\nHost: vip\r\n\r\n');
    await waitFor(() => closedByServer, 'the keep-alive connection is closed by the old owner', 3000);
    const tail = responses.join('').split('HTTP/1.1 ').slice(2).join('');
    if (tail) assert.match(tail, /^503[\s\S]*connection: close/i, 'a request after the deadline gets 503 and Connection: close');
    assert.ok(!c.backends[0]!.seen.slice(seenBefore).some((r) => r.url === '/after'), 'no request was forwarded after the deadline');
    assert.equal((await handshake(c.vip.url, 300)).ok, false, 'nobody serves the VIP');
    redis.proc.kill('SIGCONT');
    resumed = true;
    await c.waitForOwner(() => true, 10_000);
    await waitFor(async () => (await handshake(c.vip.url, 500)).ok, 'the VIP answers again', 5000);
  });

  await t.test('the sampler saw no two owners at any instant', async () => {
    const r = await sampler.stop();
    assert.deepEqual(r.claimConflicts, []);
    assert.deepEqual(r.listenerOverlaps, []);
    assert.deepEqual(r.epochWentDown, []);
  });
});
