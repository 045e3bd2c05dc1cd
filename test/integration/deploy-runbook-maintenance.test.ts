/**
 * The planned-maintenance runbook (deploy/runbooks/planned-maintenance.md),
 * exercised as written: its ```sh blocks marked `# runbook-test` are run
 * command by command (`wsha` = the built CLI, /etc/wsha/wsha.yaml = a node
 * config of the test cluster) against a local two-node cluster with the bind
 * driver: real redis-server, two echo backends, two `wsha node start`
 * processes. While the commands run, WebSocket clients stay connected
 * through the VIP (reconnecting whenever closed) and a prober opens new
 * connections every few milliseconds. Checked: every command exits 0, no
 * connection is refused, clients get close code 1012 and reconnect, the new
 * owner (and the drained node) shows in `wsha status --json`, and a drained
 * node that restarts ("patch") stays drained.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, waitFor } from '../harness/ports';
import { echoThrough, missingCommands, RunbookCluster, runbookTestBlocks, startProber, vipOf, type StickyClient } from '../harness/runbook';
import { REPO_ROOT } from '../harness/wsha-cli';

const RUNBOOK = join(REPO_ROOT, 'deploy', 'runbooks', 'planned-maintenance.md');
const CLIENT_COUNT = 12;

test('the planned-maintenance runbook runs as written and keeps its promises', { timeout: 120_000 }, async (t) => {
  const blocks = runbookTestBlocks(readFileSync(RUNBOOK, 'utf8'));
  assert.ok(blocks.length >= 4, `expected the runbook's # runbook-test blocks, found ${blocks.length}`);
  for (const line of blocks.flat()) assert.match(line, /^wsha [a-z]/, `a # runbook-test block may only hold wsha commands: ${line}`);
  // Skip only when a command of the runbook does not exist in the CLI yet.
  const missing = await missingCommands(blocks);
  if (missing.length) { t.skip(`the CLI has no command ${missing.map((v) => `wsha ${v}`).join(', ')} yet`); return; }

  const c = await RunbookCluster.create('runbook-maint');
  t.after(() => c.close());
  // proxy-a first: with preempt off, whoever comes up first keeps the VIP.
  await c.startNode('proxy-a', 150);
  await c.startNode('proxy-b', 100);
  let epoch = vipOf(await c.ownerIs('proxy-a', 2, 20000))!.epoch!;
  // Both nodes must see both backends up before the runbook's step 1 may say "healthy".
  await waitFor(async () => (await c.wsha('wsha status --config /etc/wsha/wsha.yaml')).code === 0, 'wsha status healthy', 20000, 300);

  const clients: StickyClient[] = c.clients(CLIENT_COUNT);
  t.after(() => clients.forEach((x) => x.stop()));
  clients.forEach((x) => x.start());
  await waitFor(() => clients.every((x) => x.isOpen()), 'every client connected through the VIP', 10000);
  const prober = startProber(c.vipHost, c.vipPort);
  t.after(() => prober.stop());

  /** After a handover to `to`: new owner with a higher epoch, clients closed with 1012 and back. */
  const expectHandover = async (to: string) => {
    const s = await c.ownerIs(to, 2);
    assert.ok(vipOf(s)!.epoch! > epoch, `epoch must grow (was ${epoch}, now ${vipOf(s)!.epoch})`);
    epoch = vipOf(s)!.epoch!;
    await waitFor(() => clients.every((x) => x.closeCodes.includes(1012) && x.isOpen()), 'every client closed with 1012 and reconnected', 15000, 50);
    for (const x of clients) x.closeCodes.length = 0;
    assert.match(await echoThrough(clients[0].ws!, `through ${to}`), /\[app-\d\] through/);
  };
  const drainedOf = async (id: string) => (await c.status()).nodes.find((n) => n.id === id)?.drained;

  for (const block of blocks) {
    for (const line of block) {
      const r = await c.wsha(line);
      assert.equal(r.code, 0, `runbook command failed: ${line}\n${r.stdout}${r.stderr}`);
    }
    const verbs = block.map((l) => l.split(/\s+/)[1]);
    if (verbs.includes('drain')) {
      await expectHandover('proxy-b');
      assert.equal(await drainedOf('proxy-a'), true, 'proxy-a shown as drained');
      // Step 3 ("patch"): the runbook restarts the drained node with systemctl; here its process restarts.
      await c.stopNode('proxy-a');
      await c.startNode('proxy-a', 150);
      await c.ownerIs('proxy-b', 2);
      await sleep(1000);
      assert.equal(await drainedOf('proxy-a'), true, 'proxy-a still drained after a restart');
      assert.equal(vipOf(await c.status())?.owner, 'proxy-b', 'the VIP stays on proxy-b while proxy-a is drained');
    }
    if (verbs.includes('undrain')) {
      await waitFor(async () => (await drainedOf('proxy-a')) === false, 'proxy-a no longer drained', 10000, 200);
      await sleep(1000);
      assert.equal(vipOf(await c.status())?.owner, 'proxy-b', 'with preempt off, undrain does not move the VIP back');
    }
    if (verbs.includes('failover')) await expectHandover('proxy-a');
  }
  prober.stop();
  t.diagnostic(`prober: ${prober.attempts()} connects, ${prober.refused()} refused; clients: ${clients.reduce((n, x) => n + x.opens, 0)} opens, errors ${JSON.stringify(clients.flatMap((x) => x.errors))}; final epoch ${epoch}`);
  assert.ok(prober.attempts() > 50, `the prober ran (${prober.attempts()} attempts)`);
  assert.equal(prober.refused(), 0, `${prober.refused()} of ${prober.attempts()} new connections to the VIP were refused`);
  assert.deepEqual(clients.flatMap((x) => x.errors).filter((e) => e === 'ECONNREFUSED'), [], 'a reconnecting client was refused');
});
