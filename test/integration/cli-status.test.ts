/**
 * `wsha status` / `nodes` / `vips` as a subprocess against a real cluster
 * (redis-server, two echo backends, two nodes sharing a bind VIP): the JSON
 * conforms to the documented shape, and reflects a failed backend, a killed
 * node and the moved VIP, with the exit codes healthy 0 / degraded 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateStatusDocument, type StatusDocument } from '../../cluster/status/status-document';
import { killBackend, startOperatorCluster } from '../harness/operator-cluster';
import { waitFor } from '../harness/ports';
import { runWsha } from '../harness/wsha-cli';

async function status(target: string[]): Promise<{ code: number; doc: StatusDocument }> {
  const r = await runWsha(['status', '--json', ...target]);
  let doc: StatusDocument;
  try { doc = JSON.parse(r.stdout); } catch { throw new Error(`status --json printed no JSON (exit ${r.code}): ${r.stdout}${r.stderr}`); }
  assert.deepEqual(validateStatusDocument(doc), [], 'status --json follows the documented shape');
  return { code: r.code, doc };
}

test('status reflects a healthy cluster, a failed backend, a killed node and the moved VIP', { timeout: 90_000 }, async (t) => {
  const c = await startOperatorCluster('clistatus');
  t.after(() => c.stop());

  // Healthy: both nodes alive, the VIP owned, both backends up.
  const healthy = await waitFor(async () => {
    const s = await status(c.target);
    return s.doc.health === 'healthy' ? s : null;
  }, 'a healthy status', 20_000, 200);
  assert.equal(healthy.code, 0);
  assert.deepEqual(healthy.doc.nodes.map((n) => [n.id, n.alive]), [['node-a', true], ['node-b', true]]);
  const first = await c.owner();
  const vip = healthy.doc.vips.find((v) => v.name === 'front')!;
  assert.equal(vip.owner, first!.owner);
  assert.equal(vip.epoch, first!.epoch);
  assert.equal(vip.driver, 'bind');
  assert.equal(vip.address, c.layout.vip.address);
  const owner = healthy.doc.nodes.find((n) => n.id === first!.owner)!;
  assert.equal(owner.role, 'owner');
  assert.ok(owner.heartbeatAgeMs !== null && owner.heartbeatAgeMs < 2000);
  assert.equal(healthy.doc.pools[0].name, 'chat');
  assert.deepEqual(healthy.doc.pools[0].backends.map((b) => [b.id, b.verdict]), [['echo-1', 'up'], ['echo-2', 'up']]);

  // A failed backend: verdict down, both nodes' views, degraded (exit 1).
  await killBackend(c, 'echo-2');
  const backendDown = await waitFor(async () => {
    const s = await status(c.target);
    const b = s.doc.pools[0]?.backends.find((x) => x.id === 'echo-2');
    return b?.verdict === 'down' ? s : null;
  }, 'echo-2 down in status', 20_000, 200);
  assert.equal(backendDown.doc.health, 'degraded');
  assert.equal(backendDown.code, 1);
  assert.ok(backendDown.doc.warnings.some((w) => w.code === 'backend-down' && w.message.includes('echo-2')));
  const views = backendDown.doc.pools[0].backends.find((x) => x.id === 'echo-2')!.views;
  assert.ok(views.some((v) => !v.up), 'some node sees echo-2 down');

  // The owner is killed: it shows as not alive, the other node owns the VIP with a higher epoch.
  const victim = first!.owner;
  const survivor = victim === 'node-a' ? 'node-b' : 'node-a';
  c.nodes.get(victim)!.signal('SIGKILL');
  const moved = await waitFor(async () => {
    const s = await status(c.target);
    const v = s.doc.vips.find((x) => x.name === 'front');
    const n = s.doc.nodes.find((x) => x.id === victim);
    return v?.owner === survivor && n && !n.alive ? s : null;
  }, 'the VIP moved and the killed node shown down', 20_000, 200);
  assert.equal(moved.code, 1, 'degraded: a node is down, the VIP has an owner');
  assert.ok(moved.doc.vips[0].epoch! > first!.epoch);
  assert.ok(moved.doc.warnings.some((w) => w.code === 'node-not-seen' && w.message.includes(victim)));

  // Text output and the sub-views agree.
  const text = await runWsha(['status', ...c.target]);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /DEGRADED/);
  assert.match(text.stdout, new RegExp(`front .*${survivor}`));
  const vips = await runWsha(['vips', '--json', ...c.target]);
  assert.equal(vips.code, 0);
  assert.equal(JSON.parse(vips.stdout)[0].owner, survivor);
  const nodes = await runWsha(['nodes', '--json', ...c.target]);
  assert.equal(nodes.code, 1);
  assert.deepEqual(JSON.parse(nodes.stdout).map((n: { id: string; alive: boolean }) => [n.id, n.alive]).sort(), [[survivor, true], [victim, false]].sort());

  // The same through a node's config file instead of --redis/--cluster.
  const viaConfig = await runWsha(['vips', '--json', '--config', c.nodes.get(survivor)!.configPath]);
  assert.equal(viaConfig.code, 0, viaConfig.stderr);
  assert.equal(JSON.parse(viaConfig.stdout)[0].owner, survivor);
});
