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
import { waitFor } from '../harness/ports';
import { runWsha } from '../harness/wsha-cli';
import { adminGet, startSharedCluster, whoami, type SharedCluster, type SharedClusterOptions } from '../fixtures/shared-cluster';
import { backendsCli, closeAll, heartbeat, stickyAcrossFailover } from '../fixtures/shared-scenarios';
import { spawnBackend } from '../fixtures/backend-child';
import { parseOverlay } from '../../cluster/config-sync/pool-overlay';
import { teardown } from '../harness/teardown';

async function cluster(t: TestContext, o: Omit<SharedClusterOptions, 'redis'>): Promise<SharedCluster> {
  // The cluster (and its Redis client) is closed before its redis-server stops.
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const c = await startSharedCluster({ ...o, redis: { url: redis.url } });
  cleanup.after(() => c.close());
  return c;
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
  }, 'both nodes report app/a down', 10000, 10);
  const tookMs = Date.now() - killedAt;
  t.diagnostic(`backend SIGKILLed -> down in both nodes' heartbeats after ${tookMs} ms (checks every 100 ms, fall 2, heartbeat 100 ms)`);
  // Ideal: fall (2) x interval (100 ms) + one heartbeat; the margin is for a loaded test machine.
  assert.ok(tookMs < 5000, `took ${tookMs} ms`);
  for (let i = 0; i < 6; i++) { const r = await whoami(c.vipUrl); open.push(r.ws); assert.equal(r.backend, 'b'); }

  await c.kill(owner);
  const next = await c.waitForOwner((id) => id === standby);
  assert.equal(next, standby);
  // The very first connections through the new owner: every one to b, none refused.
  for (let i = 0; i < 6; i++) { const r = await whoami(c.vipUrl); open.push(r.ws); assert.equal(r.backend, 'b', `connection ${i} after takeover`); }
  const failures = c.node(standby).proc.logs.filter((l) => l.backend === 'a' && /fail|refused|error/i.test(String(l.msg)) && l.pool === 'app' && l.msg !== 'backend verdict down');
  assert.deepEqual(failures.map((l) => l.msg), [], 'no connection attempt to a');
});

test('a sticky session opened through node A and resumed through node B after A is SIGKILLed lands on the same backend', async (t) => {
  const c = await cluster(t, { nodes: 2, vipAddress: '127.0.0.72', backends: ['a', 'b'], pool: { balance: 'sticky', sticky: { header: 'x-session' } } });
  await stickyAcrossFailover(t, c);
});

test('least-conn balances the backends\' totals across two nodes', async (t) => {
  const c = await cluster(t, { nodes: 2, vipAddress: '127.0.0.73', backends: ['a', 'b'], pool: { balance: 'least-conn' } });
  const open: WebSocket[] = [];
  closeAll(t, open);
  const via = (id: string) => `ws://127.0.0.1:${c.node(id).directPort}/`;
  // Four connections through n1 while b takes none: a holds 4.
  await backendsCli(c, ['disable', 'app', 'b'], ['n1', 'n2']);
  for (let i = 0; i < 4; i++) { const r = await whoami(via('n1')); open.push(r.ws); assert.equal(r.backend, 'a'); }
  await backendsCli(c, ['enable', 'app', 'b'], ['n1', 'n2']);
  // Wait until n1's four are in Redis, then until n2 has synced (its stamp moves: write and read are one MULTI).
  await waitFor(async () => (await c.client.hget(c.keys.conns('app'), 'n1|a')) === '4', 'n1 count in Redis', 5000);
  const seenAt = Date.now();
  await waitFor(async () => Number(await c.client.hget(c.keys.conns('app'), 'n2|@')) > seenAt, 'n2 synced counts', 5000);
  // Four through n2: it sees n1's four on a, so all go to b (alone it would split 2/2).
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) { const r = await whoami(via('n2')); open.push(r.ws); seen.push(r.backend); }
  assert.deepEqual(seen, ['b', 'b', 'b', 'b'], 'totals end 4 on a, 4 on b');
});

test('wsha backends add on one node is applied by the other within a second, and stays through a SIGHUP reload', async (t) => {
  const c = await cluster(t, { nodes: 2, vipAddress: '127.0.0.74', backends: ['a'] });
  const extra = await spawnBackend('c');
  t.after(() => extra.kill());
  const open: WebSocket[] = [];
  closeAll(t, open);
  const { appliedMs } = await backendsCli(c, ['add', 'app', 'c', extra.url.replace('http:', 'ws:')], ['n1', 'n2']);
  t.diagnostic(`wsha backends add: CLI start to applied on both nodes in ${appliedMs} ms (CLI process start included)`);
  const logged = c.node('n2').proc.logs.find((l) => l.msg === 'live pool changes applied' && l.to >= 1)!;
  const storedAt = parseOverlay(await c.client.hget(c.keys.pools(), 'app'))!.history.find((h) => h.op === 'add')!.at;
  const lagMs = Date.parse(logged.time) - storedAt;
  t.diagnostic(`stored in Redis -> applied by n2 after ${lagMs} ms`);
  assert.ok(lagMs < 1000, `applied ${lagMs} ms after the change was stored`);
  await backendsCli(c, ['disable', 'app', 'a'], ['n1', 'n2']);
  const r = await whoami(`ws://127.0.0.1:${c.node('n2').directPort}/`);
  open.push(r.ws);
  assert.equal(r.backend, 'c', 'n2 routes to the added backend');
  // SIGHUP (file unchanged): the live changes stay in force and the tunnel to c stays open.
  c.node('n2').proc.signal('SIGHUP');
  await c.node('n2').proc.waitForLog((l) => l.msg === 'config reloaded', 'n2 reloaded', 5000);
  const again = await whoami(`ws://127.0.0.1:${c.node('n2').directPort}/`);
  open.push(again.ws);
  assert.equal(again.backend, 'c', 'still routed to the live backend after SIGHUP');
  assert.equal(r.ws.readyState, r.ws.OPEN, 'the tunnel opened before the reload is still open');
  // Same Backend object before and after: its tunnel count still includes the tunnel from before the reload.
  const state = await adminGet<{ node: { pools: Array<{ name: string; backends: Array<{ id: string; tunnels: number; weight: number }> }> } }>(c.node('n2'), '/api/state');
  const backendC = state.node.pools.find((p) => p.name === 'app')!.backends.find((b) => b.id === 'c')!;
  assert.equal(backendC.tunnels, 2);
  assert.equal(state.node.pools.find((p) => p.name === 'app')!.backends.find((b) => b.id === 'a')!.weight, 0, 'a still disabled');
  const list = await runWsha(['backends', 'list', 'app', '--config', c.node('n2').configPath, '--json']);
  assert.equal(list.code, 0, list.stderr);
  const rows = (JSON.parse(list.stdout) as { backends: Array<{ backend: string; state: string; source: string; verdict: string }> }).backends;
  assert.deepEqual(rows.map((b) => [b.backend, b.state, b.source]), [['a', 'disabled', 'file'], ['c', 'enabled', 'live']]);
  await waitFor(async () => {
    const l = await runWsha(['backends', 'list', 'app', '--config', c.node('n2').configPath, '--json']);
    return (JSON.parse(l.stdout) as { backends: Array<{ backend: string; verdict: string }> }).backends.find((b) => b.backend === 'c')?.verdict === 'up';
  }, 'c up in the verdict table', 5000, 100);
});

test('wsha backends remove drains the backend on every node: no new connections, open ones closed with 1012 after the grace period', async (t) => {
  const c = await cluster(t, { nodes: 2, vipAddress: '127.0.0.76', backends: ['a', 'b'] });
  const open: WebSocket[] = [];
  closeAll(t, open);
  const onA: WebSocket[] = [];
  for (const id of ['n1', 'n2']) {
    for (let i = 0; i < 4 && onA.filter((w) => (w as unknown as { node: string }).node === id).length === 0; i++) {
      const r = await whoami(`ws://127.0.0.1:${c.node(id).directPort}/`);
      open.push(r.ws);
      if (r.backend === 'a') onA.push(Object.assign(r.ws, { node: id }));
    }
  }
  assert.equal(onA.length, 2, 'one tunnel to a through each node');
  const codes = onA.map((ws) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code))));
  const { appliedMs } = await backendsCli(c, ['remove', 'app', 'a'], ['n1', 'n2']);
  const removedAt = Date.now() - appliedMs;
  for (const id of ['n1', 'n2']) {
    for (let i = 0; i < 4; i++) { const r = await whoami(`ws://127.0.0.1:${c.node(id).directPort}/`); open.push(r.ws); assert.equal(r.backend, 'b', `new connection through ${id}`); }
  }
  assert.deepEqual(await Promise.all(codes), [1012, 1012]);
  assert.ok(Date.now() - removedAt >= 200, 'closed after the grace period (node.drain.graceMs 200 ms)');
  const list = await runWsha(['backends', 'list', 'app', '--config', c.node('n1').configPath, '--json']);
  assert.deepEqual((JSON.parse(list.stdout) as { backends: Array<{ backend: string; state: string }> }).backends.map((b) => [b.backend, b.state]).sort(), [['a', 'removed'], ['b', 'enabled']]);
});

test('passive health: failed connects from live traffic take a backend out on that node at once, long before its active checks', async (t) => {
  const c = await cluster(t, { nodes: 2, vipAddress: '127.0.0.77', backends: ['a', 'b'], pool: { healthCheck: { type: 'tcp', intervalMs: 3000, timeoutMs: 1000, rise: 2, fall: 2, passiveFail: 2 } } });
  await waitFor(async () => (await heartbeat(c, 'n2'))?.ready, 'n2 ready', 15000);
  const open: WebSocket[] = [];
  closeAll(t, open);
  await c.backends.get('a')!.kill();
  const results: string[] = [];
  for (let i = 0; i < 8; i++) {
    try { const r = await whoami(`ws://127.0.0.1:${c.node('n1').directPort}/`); open.push(r.ws); results.push(r.backend); } catch (err) { results.push(`failed ${(err as { statusCode?: number }).statusCode}`); }
  }
  t.diagnostic(`through n1 after the kill: ${results.join(', ')}`);
  // Active checks every 3 s with fall 2 cannot mark a down within these few hundred ms: passive failures did.
  assert.deepEqual(results.slice(-4), ['b', 'b', 'b', 'b'], results.join(', '));
  assert.ok(results.filter((r) => r.startsWith('failed')).length <= 2, results.join(', '));
  await c.node('n1').proc.waitForLog((l) => l.msg === 'backend down on this node (passive failures)' && l.backend === 'a', 'passive down logged', 5000);
  await waitFor(async () => (await heartbeat(c, 'n1'))?.backendsDown.includes('app/a'), 'n1 reports a down', 5000);
});
