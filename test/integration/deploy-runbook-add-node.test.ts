/**
 * The add-node runbook (deploy/runbooks/add-node.md), exercised as written:
 * its `# runbook-test` blocks run against a local cluster (bind driver) that
 * grows from two nodes to three, with WebSocket clients and a connect prober
 * on the VIP. Checked: every command exits 0, the new node is seen, it can
 * own the VIP and give it back (clients closed with 1012 reconnect, nobody
 * refused), and removing it (drain, stop, undrain) leaves the owner alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../harness/ports';
import { echoThrough, missingCommands, RunbookCluster, runbookTestBlocks, startProber, vipOf } from '../harness/runbook';
import { REPO_ROOT } from '../harness/wsha-cli';

const RUNBOOK = join(REPO_ROOT, 'deploy', 'runbooks', 'add-node.md');
const CLIENT_COUNT = 8;

test('the add-node runbook runs as written against a growing cluster', { timeout: 120_000 }, async (t) => {
  const blocks = runbookTestBlocks(readFileSync(RUNBOOK, 'utf8'));
  assert.equal(blocks.length, 3, 'nodes/status, failover there and back, drain');
  for (const line of blocks.flat()) assert.match(line, /^wsha [a-z]/, `a # runbook-test block may only hold wsha commands: ${line}`);
  const missing = await missingCommands(blocks);
  if (missing.length) { t.skip(`the CLI has no command ${missing.map((v) => `wsha ${v}`).join(', ')} yet`); return; }

  const c = await RunbookCluster.create('runbook-add');
  t.after(() => c.close());
  await c.startNode('proxy-a', 150);
  await c.startNode('proxy-b', 100);
  const epoch0 = vipOf(await c.ownerIs('proxy-a', 2, 20000))!.epoch!;
  const clients = c.clients(CLIENT_COUNT);
  t.after(() => clients.forEach((x) => x.stop()));
  clients.forEach((x) => x.start());
  await waitFor(() => clients.every((x) => x.isOpen()), 'every client connected through the VIP', 10000);
  const prober = startProber(c.vipHost, c.vipPort);
  t.after(() => prober.stop());

  // Step 2: `systemctl enable --now wsha` on the new host.
  await c.startNode('proxy-c', 50);
  await c.ownerIs('proxy-a', 3);
  await waitFor(async () => (await c.wsha('wsha status --config /etc/wsha/wsha.yaml')).code === 0, 'wsha status healthy with three nodes', 20000, 300);

  const run = async (block: string[]) => {
    const out: string[] = [];
    for (const line of block) {
      const r = await c.wsha(line);
      assert.equal(r.code, 0, `runbook command failed: ${line}\n${r.stdout}${r.stderr}`);
      out.push(r.stdout);
    }
    return out;
  };
  const [seen, moves, removal] = blocks;

  const seenOut = await run(seen);
  assert.match(seenOut[0], /proxy-c/, 'wsha nodes lists the new node');
  assert.equal(vipOf(await c.status())?.owner, 'proxy-a', 'adding a node does not move the VIP');

  const movesOut = await run(moves);
  assert.match(movesOut[1], /proxy-c/, 'wsha vips showed proxy-c as owner between the two failovers');
  const back = await c.ownerIs('proxy-a', 3);
  assert.equal(vipOf(back)!.epoch, epoch0 + 2, 'two ownership changes, one epoch each');
  await waitFor(() => clients.every((x) => x.closeCodes.includes(1012) && x.isOpen()), 'clients closed with 1012 and reconnected', 15000, 50);
  assert.match(await echoThrough(clients[0].ws!, 'back on proxy-a'), /back on proxy-a/);

  await run(removal);
  assert.equal((await c.status()).nodes.find((n) => n.id === 'proxy-c')?.drained, true, 'proxy-c drained');
  // `systemctl disable --now wsha` on proxy-c, then the undrain of the runbook.
  await c.stopNode('proxy-c');
  assert.equal((await c.wsha('wsha undrain proxy-c --config /etc/wsha/wsha.yaml')).code, 0);
  const after = await c.status();
  assert.equal(after.nodes.find((n) => n.id === 'proxy-c')?.alive ?? false, false, 'proxy-c gone');
  assert.equal(vipOf(after)?.owner, 'proxy-a', 'removing the standby leaves the owner alone');
  assert.equal(vipOf(after)?.epoch, epoch0 + 2);

  prober.stop();
  t.diagnostic(`prober: ${prober.attempts()} connects, ${prober.refused()} refused; client errors ${JSON.stringify(clients.flatMap((x) => x.errors))}`);
  assert.ok(prober.attempts() > 50);
  assert.equal(prober.refused(), 0, `${prober.refused()} of ${prober.attempts()} new connections to the VIP were refused`);
  assert.deepEqual(clients.flatMap((x) => x.errors).filter((e) => e === 'ECONNREFUSED'), []);
});
