/**
 * `wsha failover`, `wsha drain` and `wsha undrain` as subprocesses against
 * a real two-node cluster: the VIP moves with a higher epoch, a drained
 * node shows as drained in `status` and owns nothing, a refused drain
 * (no eligible target) exits 1 with WSHA_ERR_HANDOVER and changes nothing,
 * an unknown node exits 4.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatusDocument } from '../../cluster/status/status-document';
import { startOperatorCluster } from '../harness/operator-cluster';
import { waitFor } from '../harness/ports';
import { runWsha } from '../harness/wsha-cli';

test('failover, drain and undrain through the CLI', { timeout: 90_000 }, async (t) => {
  const c = await startOperatorCluster('clidrain');
  t.after(() => c.stop());
  const first = (await c.owner())!;
  const other = first.owner === 'node-a' ? 'node-b' : 'node-a';
  await waitFor(async () => {
    const s = JSON.parse((await runWsha(['status', '--json', ...c.target])).stdout) as StatusDocument;
    return s.nodes.filter((n) => n.alive && n.ready).length === 2;
  }, 'both nodes ready', 20_000, 200);

  // Planned failover (the only VIP, so --vip may be left out).
  const f = await runWsha(['failover', ...c.target]);
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stdout, new RegExp(`VIP front moved ${first.owner} -> ${other} \\(epoch (\\d+)\\)`));
  const afterFailover = (await c.owner())!;
  assert.equal(afterFailover.owner, other);
  assert.ok(afterFailover.epoch > first.epoch);

  // Drain the new owner: the VIP comes back to the first node, the drained node shows as such.
  const d = await runWsha(['drain', other, '--json', ...c.target], { timeoutMs: 30_000 });
  assert.equal(d.code, 0, d.stderr);
  const moves = JSON.parse(d.stdout) as Array<{ vip: string; oldOwner: string; newOwner: string }>;
  assert.deepEqual(moves.map((m) => [m.vip, m.oldOwner, m.newOwner]), [['front', other, first.owner]]);
  const drained = await waitFor(async () => {
    const s = JSON.parse((await runWsha(['status', '--json', ...c.target])).stdout) as StatusDocument;
    return s.nodes.find((n) => n.id === other)?.drained ? s : null;
  }, 'drained node in status', 10_000, 200);
  assert.equal(drained.vips[0].owner, first.owner);
  assert.equal(drained.nodes.find((n) => n.id === other)!.role, 'standby');

  // With the only other node drained, draining the owner is refused and nothing changes.
  const refused = await runWsha(['drain', first.owner, ...c.target]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /WSHA_ERR_HANDOVER/);
  assert.equal((await c.owner())!.owner, first.owner);
  assert.equal(await c.client.sismember(c.keys.drained(), first.owner), 0);

  const unknown = await runWsha(['drain', 'no-such-node', ...c.target]);
  assert.equal(unknown.code, 4, unknown.stderr);
  assert.match(unknown.stderr, /WSHA_ERR_NOT_FOUND/);

  const u = await runWsha(['undrain', other, '--json', ...c.target]);
  assert.equal(u.code, 0, u.stderr);
  assert.equal(JSON.parse(u.stdout).wasDrained, true);
  assert.equal(await c.client.sismember(c.keys.drained(), other), 0);
  // And a failover to it works again.
  const back = await runWsha(['failover', '--vip', 'front', '--to', other, ...c.target]);
  assert.equal(back.code, 0, back.stderr);
  assert.equal((await c.owner())!.owner, other);
});
