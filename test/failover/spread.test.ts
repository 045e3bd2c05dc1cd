/**
 * Several VIPs over several nodes (issue 11): with `cluster.vipPlacement:
 * spread`, 3 nodes and 3 VIPs (bind driver on 127.0.0.81-83) end with one
 * VIP each; when one node is SIGKILLed its VIP goes to a survivor, so they
 * hold two and one, and no VIP ever has two owners. Per-VIP priorities
 * (`node.vipPriorities`) send each VIP to the node that ranks it highest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../harness/cluster';
import { startSampler } from '../harness/ownership-sampler';
import { handshake } from '../harness/ws-clients';
import { parseLease } from '../../cluster/vip/lease';
import { sleep, waitFor } from '../harness/ports';

const MAIN = '127.0.0.81';
const EXTRA = [{ name: 'v2', address: '127.0.0.82' }, { name: 'v3', address: '127.0.0.83' }];
const NAMES = ['main', 'v2', 'v3'];

/** VIP name -> owner id (null when free), read from the leases. */
async function owners(c: TestCluster): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const v of NAMES) out[v] = parseLease(await c.client.get(c.keys.lease(v)))?.nodeId ?? null;
  return out;
}

const countBy = (o: Record<string, string | null>) => {
  const n = new Map<string, number>();
  for (const id of Object.values(o)) if (id) n.set(id, (n.get(id) ?? 0) + 1);
  return [...n.values()].sort();
};

test('spread: 3 nodes and 3 VIPs own one each; a SIGKILL leaves two and one, never two owners of a VIP', { timeout: 60_000 }, async (t) => {
  const c = await startCluster({ n: 3, vipAddress: MAIN, extraVips: EXTRA, placement: 'spread', preempt: true });
  t.after(() => c.close());
  const sampler = startSampler(c, 5);
  t.after(() => sampler.stop());
  // Nodes start one after another; preempt lets the first node's extra VIPs move to the others once they are ready.
  await waitFor(async () => { const o = await owners(c); return Object.values(o).every(Boolean) && countBy(o).join() === '1,1,1'; }, 'one VIP per node', 30_000);
  const before = await owners(c);
  for (const v of [MAIN, ...EXTRA.map((x) => x.address)]) {
    assert.ok((await handshake(`ws://${v}:${c.vip.port}/`, 1000)).ok, `${v} answers`);
  }
  const victim = before.main!;
  await c.kill(victim);
  await waitFor(async () => { const o = await owners(c); return Object.values(o).every((id) => id && id !== victim); }, 'the victim\'s VIP taken over', 10_000);
  await sleep(1000);
  const after = await owners(c);
  assert.deepEqual(countBy(after), [1, 2], `two and one: ${JSON.stringify(after)}`);
  for (const v of NAMES) if (before[v] !== victim) assert.equal(after[v], before[v], `${v} stayed where it was`);
  assert.ok((await handshake(`ws://${MAIN}:${c.vip.port}/`, 1000)).ok, 'the moved VIP answers');
  const r = await sampler.stop();
  assert.deepEqual(r.claimConflicts, [], 'no VIP had two owners');
});

test('per-VIP priorities: each VIP goes to the node that ranks it highest', { timeout: 60_000 }, async (t) => {
  const c = await startCluster({ n: 3, vipAddress: MAIN, extraVips: EXTRA, startNodes: 0, preempt: true });
  t.after(() => c.close());
  const per: Array<Record<string, number>> = [{ main: 200 }, { v2: 200 }, { v3: 200 }];
  c.nodes.forEach((n, i) => { (n.config.node as Record<string, unknown>).vipPriorities = per[i]; });
  await Promise.all(c.nodes.map((n) => c.start(n.id)));
  await waitFor(async () => { const o = await owners(c); return o.main === 'n1' && o.v2 === 'n2' && o.v3 === 'n3'; }, 'main on n1, v2 on n2, v3 on n3', 20_000);
  const st = await c.state('n2');
  assert.ok(st, 'n2 answers');
});
