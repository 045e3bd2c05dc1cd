/**
 * Shared state across real node processes: two `wsha node start` processes,
 * one real redis-server, child-process backends killed with SIGKILL, a
 * `bind` VIP on 127.0.0.7x. Backend verdicts, takeover routing, sticky
 * sessions across a failover, least-conn across nodes and live pool changes.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import { startRedis } from '../harness/redis';
import { waitFor, sleep } from '../harness/ports';
import { runWsha } from '../harness/wsha-cli';
import { startSharedCluster, whoami, type SharedCluster, type SharedClusterOptions } from '../fixtures/shared-cluster';
import type { HeartbeatRecord } from '../../shared/records';

async function cluster(t: TestContext, o: Omit<SharedClusterOptions, 'redis'>): Promise<SharedCluster> {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const c = await startSharedCluster({ ...o, redis: { url: redis.url } });
  t.after(() => c.close());
  return c;
}

async function heartbeat(c: SharedCluster, id: string): Promise<HeartbeatRecord | null> {
  const raw = await c.client.get(c.keys.node(id));
  return raw ? (JSON.parse(raw) as HeartbeatRecord) : null;
}

function closeAll(t: TestContext, list: WebSocket[]): void {
  t.after(() => { for (const ws of list) ws.terminate(); });
}

test('SIGKILLed backend: both nodes mark it down within its checks; the standby that takes over never sends it a first connection', async (t) => {
  const c = await cluster(t, { nodes: 2, vipAddress: '127.0.0.71', backends: ['a', 'b'] });
  const owner = await c.waitForOwner();
  const standby = owner === 'n1' ? 'n2' : 'n1';
  await waitFor(async () => (await heartbeat(c, standby))?.ready, 'standby ready', 10000);
  const open: WebSocket[] = [];
  closeAll(t, open);
  const killedAt = Date.now();
  await c.backends.get('a')!.kill();
  await waitFor(async () => {
    const [h1, h2] = await Promise.all([heartbeat(c, 'n1'), heartbeat(c, 'n2')]);
    return h1?.backendsDown.includes('app/a') && h2?.backendsDown.includes('app/a');
  }, 'both nodes report app/a down', 5000, 10);
  const tookMs = Date.now() - killedAt;
  t.diagnostic(`backend SIGKILLed -> down in both nodes' heartbeats after ${tookMs} ms (checks every 100 ms, fall 2, heartbeat 100 ms)`);
  assert.ok(tookMs < 2500, `took ${tookMs} ms`);
  for (let i = 0; i < 6; i++) { const r = await whoami(c.vipUrl); open.push(r.ws); assert.equal(r.backend, 'b'); }

  await c.kill(owner);
  const next = await c.waitForOwner((id) => id === standby);
  assert.equal(next, standby);
  // The very first connections through the new owner: every one to b, none refused.
  for (let i = 0; i < 6; i++) { const r = await whoami(c.vipUrl); open.push(r.ws); assert.equal(r.backend, 'b', `connection ${i} after takeover`); }
  const failures = c.node(standby).proc.logs.filter((l) => l.backend === 'a' && /fail|refused|error/i.test(String(l.msg)) && l.pool === 'app' && l.msg !== 'backend verdict down');
  assert.deepEqual(failures.map((l) => l.msg), [], 'no connection attempt to a');
});
