/**
 * Issue 14: a real two-node cluster leaves the expected events in its
 * history, in order and with the right fields, read back with
 * `wsha events --json`: nodes joining, a planned handover (operator, phases,
 * ownership), a drain and undrain, a live pool change, a rejected and an
 * accepted reload, a Redis outage (the events recorded during it appear
 * after it with their original times), and an unplanned takeover after a
 * SIGKILL (with the time from the old owner's last sign of life to the new
 * owner serving). The stream stays within its count cap throughout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { startOperatorCluster, type OperatorCluster } from '../harness/operator-cluster';
import { sleep, waitFor } from '../harness/ports';
import { runWsha } from '../harness/wsha-cli';
import type { StoredEvent } from '../../shared/history-event';
import type { StatusDocument } from '../../cluster/status/status-document';

const MAX_COUNT = 500;

async function events(c: OperatorCluster, args: string[] = []): Promise<StoredEvent[]> {
  const r = await runWsha(['events', '--json', '--since', '1h', ...args, ...c.target]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as StoredEvent);
}

/** Waits until the history has an event that `pred` picks, and returns the whole list. */
async function eventually(c: OperatorCluster, pred: (e: StoredEvent) => boolean, what: string, timeoutMs = 15_000): Promise<StoredEvent[]> {
  return waitFor(async () => { const list = await events(c); return list.some(pred) ? list : null; }, what, timeoutMs, 200);
}

const idx = (list: StoredEvent[], pred: (e: StoredEvent) => boolean) => list.findIndex(pred);

test('issue 14: the cluster history of a handover, drain, pool change, reloads, a Redis outage and a takeover', { timeout: 180_000 }, async (t) => {
  const c = await startOperatorCluster('evt', (cfg) => { cfg.cluster.history = { maxCount: MAX_COUNT, bufferCount: 200, sampleIntervalMs: 1000 }; });
  t.after(() => c.stop());
  await waitFor(async () => {
    const s = JSON.parse((await runWsha(['status', '--json', ...c.target])).stdout) as StatusDocument;
    return s.nodes.filter((n) => n.alive && n.ready).length === 2;
  }, 'both nodes ready', 20_000, 200);
  const first = (await c.owner())!;
  const other = first.owner === 'node-a' ? 'node-b' : 'node-a';

  await t.test('nodes joined and the first owner acquired', async () => {
    const list = await eventually(c, (e) => e.kind === 'vip-serving' && e.epoch === first.epoch, 'first VIP served');
    for (const id of ['node-a', 'node-b']) assert.ok(list.some((e) => e.kind === 'node-joined' && e.node === id), `${id} joined`);
    const own = list.filter((e) => e.kind === 'ownership');
    assert.ok(own.some((e) => e.kind === 'ownership' && e.owner === first.owner && e.epoch === first.epoch), 'first ownership recorded');
    assert.equal(new Set(own.map((e) => e.kind === 'ownership' && `${e.epoch}:${e.owner}`)).size, own.length, 'each ownership change once');
  });

  await t.test('planned handover: the operator, the phases and the ownership change, in order', async () => {
    const f = await runWsha(['failover', '--json', ...c.target]);
    assert.equal(f.code, 0, f.stderr);
    const moved = JSON.parse(f.stdout) as { epoch: number; newOwner: string };
    assert.equal(moved.newOwner, other);
    const list = await eventually(c, (e) => e.kind === 'admin' && e.action === 'failover', 'failover admin event');
    const own = idx(list, (e) => e.kind === 'ownership' && e.epoch === moved.epoch && e.owner === other);
    assert.ok(own >= 0, 'ownership change recorded');
    const o = list[own]!;
    assert.ok(o.kind === 'ownership' && o.previousOwner === first.owner && /failover/.test(o.reason));
    const started = idx(list, (e) => e.kind === 'handover' && e.phase === 'started' && e.to === other);
    assert.ok(started >= 0 && started < own, 'handover started before the ownership moved');
    const admin = list.find((e) => e.kind === 'admin' && e.action === 'failover')!;
    assert.ok(admin.kind === 'admin' && admin.ok && admin.by.name === 'cli' && admin.by.host === hostname() && admin.target === 'front');
    // The old owner leaves with the handover's reason; nothing unplanned.
    assert.ok(!list.some((e) => e.kind === 'step-down' && e.node === first.owner && !/failover|handover/.test(e.reason)), 'no unplanned step-down');
    const vip = await events(c, ['--vip', 'front', '--kind', 'ownership']);
    assert.ok(vip.length >= 2 && vip.every((e) => e.kind === 'ownership'), '--vip and --kind filter');
  });

  await t.test('drain and undrain record who asked', async () => {
    const d = await runWsha(['drain', other, '--json', ...c.target], { timeoutMs: 30_000 });
    assert.equal(d.code, 0, d.stderr);
    const u = await runWsha(['undrain', other, ...c.target]);
    assert.equal(u.code, 0, u.stderr);
    const list = await eventually(c, (e) => e.kind === 'node-undrained', 'undrained event');
    const drained = idx(list, (e) => e.kind === 'node-drained' && e.node === other);
    const moved = idx(list, (e) => e.kind === 'ownership' && e.previousOwner === other && e.owner === first.owner && e.reason === 'drain');
    const undrained = idx(list, (e) => e.kind === 'node-undrained' && e.node === other);
    assert.ok(drained >= 0 && moved > drained && undrained > moved, `drained ${drained} < moved ${moved} < undrained ${undrained}`);
    const ev = list[drained]!;
    assert.ok(ev.kind === 'node-drained' && ev.by.name === 'cli' && ev.by.via === 'cli');
    const byNode = await events(c, ['--node', other, '--kind', 'node-drained,node-undrained']);
    assert.deepEqual(byNode.map((e) => e.kind), ['node-drained', 'node-undrained']);
  });

  await t.test('a live pool change is recorded with the change and who made it', async () => {
    const r = await runWsha(['backends', 'disable', 'chat', 'echo-2', ...c.target]);
    assert.equal(r.code, 0, r.stderr);
    const list = await eventually(c, (e) => e.kind === 'pool-change', 'pool change event');
    const p = list.find((e) => e.kind === 'pool-change')!;
    assert.ok(p.kind === 'pool-change' && p.pool === 'chat' && p.backend === 'echo-2' && p.op === 'disable' && p.version >= 1 && p.by.name === 'cli');
    // Both nodes publish the pools they route with: the list says so, and they agree.
    const l = await waitFor(async () => {
      const doc = JSON.parse((await runWsha(['backends', 'list', '--json', ...c.target])).stdout) as { from: string[]; disagreements: unknown[]; backends: Array<{ backend: string; url: string | null; weight: number | null; source: string }> };
      return doc.from.length === 2 && doc.backends.find((b) => b.backend === 'echo-2')?.weight === 0 ? doc : null;
    }, 'both nodes publish the changed pool', 10_000, 200);
    assert.deepEqual(l.disagreements, []);
    assert.ok(l.backends.every((b) => b.url && b.url.startsWith('ws://') && b.source !== 'unknown'), 'URLs and sources known without a config file');
    assert.equal((await runWsha(['backends', 'enable', 'chat', 'echo-2', ...c.target])).code, 0);
  });

  await t.test('a rejected reload lists its errors; an accepted one is recorded too', async () => {
    const n = c.nodes.get(other)!;
    const { readFileSync } = await import('node:fs');
    const good = readFileSync(n.configPath, 'utf8');
    n.writeConfig(good.replace('balance: round-robin', 'balance: no-such-balancer'));
    n.signal('SIGHUP');
    const list = await eventually(c, (e) => e.kind === 'config-reload' && !e.ok, 'rejected reload');
    const bad = list.find((e) => e.kind === 'config-reload' && !e.ok)!;
    assert.ok(bad.kind === 'config-reload' && bad.node === other && bad.errors.some((x) => x.includes('pools.chat.balance')), JSON.stringify(bad));
    n.writeConfig(good);
    n.signal('SIGHUP');
    await eventually(c, (e) => e.kind === 'config-reload' && e.ok && e.node === other, 'accepted reload');
  });

  await t.test('a Redis outage: what the nodes recorded during it appears afterwards with its original time', async () => {
    const pid = c.redis.proc.pid!;
    const stoppedAt = Date.now();
    process.kill(pid, 'SIGSTOP');
    try { await sleep(3000); } finally { process.kill(pid, 'SIGCONT'); }
    const resumedAt = Date.now();
    const list = await eventually(c, (e) => e.kind === 'redis-regained', 'redis regained', 20_000);
    const lost = list.filter((e) => e.kind === 'redis-lost');
    assert.ok(lost.length >= 1, 'a node recorded losing Redis');
    for (const e of lost) {
      assert.ok(e.at >= stoppedAt - 100 && e.at < resumedAt, `redis-lost at its own time (${e.at} in ${stoppedAt}..${resumedAt})`);
      assert.ok(Number(e.id.split('-')[0]) >= resumedAt - 100, 'written after Redis came back');
      const back = list.find((x) => x.kind === 'redis-regained' && x.node === e.node);
      assert.ok(back && back.kind === 'redis-regained' && back.at >= e.at && back.downMs > 0, `redis-regained of ${e.node}`);
    }
  });

  await t.test('an unplanned takeover after SIGKILL: not seen, the new owner, and the gap from the last sign of life', async (st) => {
    const owner = (await waitFor(() => c.owner(), 'an owner after the outage', 15_000))!;
    const survivor = owner.owner === 'node-a' ? 'node-b' : 'node-a';
    const killedAt = Date.now();
    await c.nodes.get(owner.owner)!.cleanup();
    const list = await eventually(c, (e) => e.kind === 'vip-serving' && e.node === survivor && e.at >= killedAt, 'survivor serves', 20_000);
    const serving = list.find((e) => e.kind === 'vip-serving' && e.node === survivor && e.at >= killedAt)!;
    assert.ok(serving.kind === 'vip-serving' && serving.previousOwner === owner.owner, JSON.stringify(serving));
    assert.ok(typeof serving.gapMs === 'number' && serving.gapMs >= 0 && serving.gapMs < 5000, `gap ${serving.gapMs}`);
    const own = list.find((e) => e.kind === 'ownership' && e.owner === survivor && e.at >= killedAt);
    assert.ok(own && own.kind === 'ownership' && own.previousOwner === owner.owner && own.epoch === serving.epoch, 'ownership change of the takeover');
    await eventually(c, (e) => e.kind === 'node-not-seen' && e.node === owner.owner, 'killed node not seen', 20_000);
    const table = await runWsha(['events', '--since', '5m', ...c.target]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`vip-serving .*front served at epoch ${serving.epoch} after ${owner.owner}`));
    assert.match(table.stdout, /\d\d:\d\d:\d\d\.\d{3} +\d+(ms|s|m) ago/);
    st.diagnostic(`takeover gap ${serving.gapMs} ms\n${table.stdout}`);
  });

  await t.test('the stream stays within its count cap; bad flags exit 2', async () => {
    assert.ok((await c.client.xlen(c.keys.history())) <= MAX_COUNT);
    assert.equal((await c.client.hget(c.keys.historyCaps(), 'maxCount')), String(MAX_COUNT));
    const [bad, kind] = await Promise.all([runWsha(['events', '--since', 'yesterday-ish', ...c.target]), runWsha(['events', '--kind', 'nope', ...c.target])]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since/);
    assert.equal(kind.code, 2);
  });
});
