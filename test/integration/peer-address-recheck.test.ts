/**
 * The start race of the loopback peer-address check, with real node
 * processes (default-style loopback node.peer.listen) and a real
 * redis-server: the node's first membership read shows only itself, then a
 * node "on another host" appears (a heartbeat written by this test through
 * the real heartbeat script, advertising a TEST-NET-1 peer address: every
 * connection here comes from 127.0.0.1, so Redis cannot tell hosts apart).
 * A node that serves no VIP then exits with the config error naming
 * node.peer.listen; an owner keeps serving and reports the problem in its
 * log and heartbeat. Neither asks Redis for CLIENT LIST per heartbeat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { startRedis } from '../harness/redis';
import { startBackend } from '../harness/backend';
import { startNodeProcess, type NodeProcess } from '../harness/node-process';
import { freePort, sleep, waitFor } from '../harness/ports';
import { teardown, type Cleanups } from '../harness/teardown';
import { vipNodeConfig } from '../fixtures/node-config';
import { Heartbeat } from '../../cluster/membership/heartbeat';
import { parseHeartbeat } from '../../cluster/membership/members';
import { parseLease } from '../../cluster/vip/lease';
import { createRedis, connectionName } from '../../shared/redis/connect';
import { RedisSchema } from '../../shared/config/schema';
import { RedisKeys } from '../../shared/redis/keys';
import { silentLogger } from '../../shared/logger';

const FAR_PEER = '192.0.2.10:7946';
const EXIT_CONFIG = 2;

async function client(url: string, name: string, c: Cleanups): Promise<Redis> {
  const r = createRedis(RedisSchema.parse({ url }), 'state', name);
  r.on('error', () => {});
  await r.connect();
  c.after(() => r.disconnect());
  return r;
}

/** How often Redis ran CLIENT LIST since it started. */
async function clientListCalls(r: Redis): Promise<number> {
  return Number(/cmdstat_client\|list:calls=(\d+)/.exec(await r.info('commandstats'))?.[1] ?? 0);
}

/** A node of `cluster` on another host, as its heartbeats show it: alive, advertising FAR_PEER. */
async function farNode(url: string, cluster: string, c: Cleanups): Promise<void> {
  const r = await client(url, connectionName(cluster, 'far', 'inc-far', 'state'), c);
  const hb = new Heartbeat({
    redis: r, keys: new RedisKeys(cluster), intervalMs: 200, timeoutMs: 1000, keepMs: 60_000, logger: silentLogger(), onMembers: () => {}, onRedis: () => {},
    record: () => ({
      id: 'far', address: '192.0.2.10', admin: '192.0.2.10:9901', peer: FAR_PEER, incarnation: 'inc-far', peers: [], priority: 50, role: 'standby', state: 'ready',
      ready: true, drained: false, version: '0', startedAt: Date.now(), connections: 0, vips: [], backendsDown: [],
    }),
  });
  c.after(() => hb.stop());
  hb.start();
}

/** Resolves once the node has written two heartbeats, so that its first membership read is behind it. */
async function pastFirstRead(r: Redis, keys: RedisKeys, id: string): Promise<void> {
  const sentAt = async () => parseHeartbeat(await r.get(keys.node(id)))?.sentAt ?? null;
  const first = await waitFor(sentAt, `${id}'s first heartbeat`, 10_000);
  await waitFor(async () => ((await sentAt()) ?? 0) > first, `${id}'s second heartbeat`, 10_000);
}

function exitCode(n: NodeProcess, timeoutMs: number): Promise<number | null | 'running'> {
  return Promise.race([n.exited().then((e) => e.code), sleep(timeoutMs).then(() => 'running' as const)]);
}

test('loopback peer address: a node that saw nobody at its first read is checked again when a node on another host appears', { timeout: 90_000 }, async (t) => {
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const backend = await startBackend({ id: 'app-1' });
  cleanup.after(() => backend.close());
  const tool = await client(redis.url, 'test-tool', cleanup);

  const node = async (cluster: string, id: string, vip: string, c: Cleanups): Promise<NodeProcess> => {
    const n = await startNodeProcess(vipNodeConfig({
      cluster, id, priority: 100, redisUrl: redis.url, vip: { driver: 'bind', address: vip }, port: await freePort(vip),
      admin: await freePort(), peer: await freePort(), backend: { id: 'app-1', url: `ws://127.0.0.1:${backend.port}` },
    }), {}, 'started');
    c.after(() => n.cleanup());
    return n;
  };

  await t.test('a standby refuses (exit 2, naming node.peer.listen)', async (st) => {
    const c = teardown(st);
    const cluster = `prs${process.pid}`;
    const keys = new RedisKeys(cluster);
    // Drained: it never acquires, so it serves nothing when the other node shows up, like the node that lost the lease race.
    await tool.sadd(keys.drained(), 'a');
    const a = await node(cluster, 'a', '127.0.0.94', c);
    await pastFirstRead(tool, keys, 'a');
    assert.equal(await exitCode(a, 1000), 'running', 'alone in Redis, it runs');

    await farNode(redis.url, cluster, c);
    assert.equal(await exitCode(a, 10_000), EXIT_CONFIG, `exits with the config error once far appears: ${a.stderr()}`);
    assert.match(a.stderr(), /node\.peer\.listen: this node would advertise 127\.0\.0\.1:\d+, which only this host can reach, while far advertises 192\.0\.2\.10:7946/);
  });

  await t.test('an owner keeps serving, and says why in its log and heartbeat', async (st) => {
    const c = teardown(st);
    const cluster = `pro${process.pid}`;
    const keys = new RedisKeys(cluster);
    const o = await node(cluster, 'o', '127.0.0.95', c);
    await waitFor(async () => parseLease(await tool.get(keys.lease('web')))?.nodeId === 'o', 'o owns the VIP', 15_000);
    const lease = await tool.get(keys.lease('web'));
    const calls = await clientListCalls(tool);
    await sleep(1000);
    assert.equal(await clientListCalls(tool), calls, 'alone, no CLIENT LIST per heartbeat');

    await farNode(redis.url, cluster, c);
    const line = await o.waitForLog((l) => l.level === 50 && /peer link address unusable/.test(String(l.msg)), 'the error line', 10_000);
    assert.match(String(line.err), /node\.peer\.listen: this node would advertise 127\.0\.0\.1:\d+/);
    assert.deepEqual(line.vips, ['web']);
    const hb = await waitFor(async () => parseHeartbeat(await tool.get(keys.node('o')))?.peerProblem, 'the problem in o\'s heartbeat', 5000);
    assert.match(hb, /far advertises 192\.0\.2\.10:7946/);
    const after = await clientListCalls(tool);
    await sleep(1000);
    assert.equal(await exitCode(o, 0), 'running', 'still up');
    assert.equal(await tool.get(keys.lease('web')), lease, 'still the owner, same epoch');
    assert.equal(await clientListCalls(tool), after, 'decided: no CLIENT LIST any more');
    assert.ok(!o.logs.some((l) => l.level === 60), 'nothing fatal');
  });
});
