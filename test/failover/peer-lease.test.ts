/**
 * The peer lease, with two real node processes (bind driver on 127.0.0.72),
 * each reaching Redis through a TCP gate of its own: both lose Redis, the
 * owner holds on the standby's grant; then only the standby's Redis comes
 * back: it does not acquire (its grant runs while the owner keeps asking)
 * and keeps the owner's lease alive in Redis on its behalf; when the owner's
 * Redis returns, it renews as before. The VIP never moves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '../harness/redis';
import { startTcpGate } from '../harness/tcp-gate';
import { startBackend } from '../harness/backend';
import { startNodeProcess } from '../harness/node-process';
import { freePort, sleep, waitFor } from '../harness/ports';
import { queryPeerState } from '../harness/peer-client';
import { testSecretBytes } from '../harness/cluster-secret';
import { handshake } from '../harness/ws-clients';
import { vipNodeConfig } from '../fixtures/node-config';
import { createRedis } from '../../shared/redis/connect';
import { RedisSchema } from '../../shared/config/schema';
import { RedisKeys } from '../../shared/redis/keys';
import { parseLease } from '../../cluster/vip/lease';

const VIP = '127.0.0.72';
const CLUSTER = `pl${process.pid}`;

test('a standby whose Redis comes back first honours its grant and keeps the owner\'s lease alive', { timeout: 60_000 }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const gates = { a: await startTcpGate(redis.port), b: await startTcpGate(redis.port) };
  t.after(() => Promise.all(Object.values(gates).map((g) => { g.thaw(); return g.close(); })));
  const backend = await startBackend({ id: 'app-1' });
  t.after(() => backend.close());
  const port = await freePort(VIP);
  const peers = { a: await freePort(), b: await freePort() };
  const node = async (id: 'a' | 'b', priority: number) => startNodeProcess(vipNodeConfig({
    cluster: CLUSTER, id, priority, redisUrl: `redis://127.0.0.1:${gates[id].port}`, vip: { driver: 'bind', address: VIP }, port,
    admin: await freePort(), peer: peers[id], backend: { id: 'app-1', url: `ws://127.0.0.1:${backend.port}` },
  }), {}, 'started');
  const a = await node('a', 200);
  t.after(() => a.cleanup());
  const b = await node('b', 100);
  t.after(() => b.cleanup());
  const client = createRedis(RedisSchema.parse({ url: redis.url }), 'state');
  client.on('error', () => {});
  await client.connect();
  t.after(() => client.disconnect());
  const keys = new RedisKeys(CLUSTER);
  const lease = async () => parseLease(await client.get(keys.lease('web')));
  const state = (id: 'a' | 'b') => queryPeerState({ port: peers[id], cluster: CLUSTER, secret: testSecretBytes() });
  await waitFor(async () => (await lease())?.nodeId === 'a' && (await state('a'))?.vips[0]?.authority === 'both', 'a owns, backed by Redis and by b\'s grant', 15_000);
  const before = await lease();

  gates.a.freeze();
  gates.b.freeze();
  await sleep(600);
  const during = await state('a');
  assert.equal(during!.vips[0]!.claims, true);
  assert.equal(during!.vips[0]!.authority, 'peers', 'the owner holds on the grant alone');

  gates.b.thaw();
  const samples: Array<string | null> = [];
  for (let i = 0; i < 20; i++) {
    await sleep(100);
    const l = await lease();
    samples.push(l ? `${l.nodeId}:${l.epoch}` : null);
    assert.ok((await handshake(`ws://${VIP}:${port}/`, 500)).ok, 'the VIP answers all along');
  }
  assert.ok(samples.every((s) => s === null || s === `a:${before!.epoch}`), `the lease never changed hands: ${samples.join(' ')}`);
  assert.ok(samples.slice(5).every((s) => s === `a:${before!.epoch}`), `b kept a's lease alive in Redis: ${samples.join(' ')}`);
  assert.ok(b.logs.some((l) => /on its behalf/.test(String(l.msg))), 'b re-asserted the lease on a\'s behalf');
  assert.equal(b.logs.filter((l) => l.msg === 'ownership change').length, 0, 'b never acquired');

  gates.a.thaw();
  await waitFor(async () => (await state('a'))?.vips[0]?.authority === 'both', 'Redis backs the owner again', 5000);
  assert.deepEqual(await lease(), before);
  assert.equal(a.logs.filter((l) => l.msg === 'ownership change' && l.from === 'a').length, 0, 'a never stepped down');
});
