/**
 * The `linux` VIP driver in real network namespaces built by the test (see
 * test/harness/netns.ts): hosts a and b and client c on one bridge. The
 * driver's `ip` and `arping` run inside the host's namespace. Skipped when
 * the process cannot build namespaces (not root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinuxDriver, type CommandRunner } from '../../cluster/vip/drivers/linux';
import { runCommand } from '../../cluster/vip/drivers/commands';
import type { VipConfig } from '../../shared/config/schema';
import { silentLogger } from '../../shared/logger';
import { createLab, netnsAvailable, LAB_SUBNET, type NetnsLab } from '../harness/netns';
import { waitFor } from '../harness/ports';
import { labNodeConfig, scratchDir } from '../harness/netns-node';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { writeFileSync } from 'node:fs';

const VIP = `${LAB_SUBNET}.100`;
const skip = netnsAvailable() ? false : 'needs root and ip netns';

/** Runs the driver's commands inside a namespace, as a node started there would. */
function runnerIn(ns: string): CommandRunner {
  return (file, args, opts) => runCommand('ip', ['netns', 'exec', ns, file, ...args], opts);
}

function driverOn(lab: NetnsLab, host: string, over: Partial<VipConfig> = {}): LinuxDriver {
  const m = lab.member(host);
  const cfg: VipConfig = { name: 'web', driver: 'linux', address: VIP, prefix: 32, interface: m.iface, preempt: false, execTimeoutMs: 1000, garpCount: 3, garpIntervalMs: 50, ...over };
  return new LinuxDriver(cfg, silentLogger(), runnerIn(m.ns));
}

/** Makes c resolve the VIP through the kernel (a TCP connect to a closed port: refused is fine). */
function touchFromClient(lab: NetnsLab): void {
  const script = `const s=require('net').connect(9,'${VIP}');s.on('error',()=>{});s.on('connect',()=>s.destroy());setTimeout(()=>process.exit(0),500)`;
  lab.execIn(lab.member('c').ns, process.execPath, ['-e', script]);
}

test('linux driver: up/down are idempotent, a GARP repoints the client, cleanup removes a leftover', { skip, timeout: 60_000 }, async (t) => {
  const lab = createLab(['a', 'b', 'c']);
  t.after(() => lab.destroy());
  const a = driverOn(lab, 'a');
  const b = driverOn(lab, 'b');
  t.after(() => { a.close(); b.close(); });
  const ctx = (nodeId: string, epoch: number) => ({ vip: 'web', address: VIP, nodeId, epoch });

  await a.up(ctx('a', 1));
  await a.up(ctx('a', 1)); // idempotent
  assert.ok(lab.hasAddress('a', VIP));
  touchFromClient(lab);
  assert.equal(lab.neighbour('c', VIP), lab.mac('a'), 'c resolved the VIP to host a');

  // Takeover as after a kill: a's address stays (a is "dead"), b brings it up.
  // c sends nothing; only b's gratuitous ARP can repoint it.
  await b.up(ctx('b', 2));
  await waitFor(() => lab.neighbour('c', VIP) === lab.mac('b'), 'c neighbour entry pointing at b after the GARP', 3000, 10);

  // a's service manager / next start cleans the leftover up, twice is fine.
  await a.cleanup({ vip: 'web', address: VIP, nodeId: 'a' });
  await a.cleanup({ vip: 'web', address: VIP, nodeId: 'a' });
  assert.equal(lab.hasAddress('a', VIP), false);

  await b.down(ctx('b', 2));
  await b.down(ctx('b', 2));
  assert.equal(lab.hasAddress('b', VIP), false);
});

test('linux driver: announce after a heal repoints a client that was left on the old owner', { skip, timeout: 60_000 }, async (t) => {
  const lab = createLab(['a', 'b', 'c']);
  t.after(() => lab.destroy());
  const a = driverOn(lab, 'a', { garpCount: 1 });
  const b = driverOn(lab, 'b', { garpCount: 1 });
  t.after(() => { a.close(); b.close(); });
  await a.up({ vip: 'web', address: VIP, nodeId: 'a', epoch: 1 });
  touchFromClient(lab);
  assert.equal(lab.neighbour('c', VIP), lab.mac('a'));
  // b takes over while cut off from c at the bridge: its GARPs never reach c.
  // (Cutting c's own port would flush c's cache on carrier loss.)
  lab.partition('b');
  await a.down({ vip: 'web', address: VIP, nodeId: 'a', epoch: 1 });
  await b.up({ vip: 'web', address: VIP, nodeId: 'b', epoch: 2 });
  await new Promise((r) => setTimeout(r, 200));
  lab.heal('b');
  assert.equal(lab.neighbour('c', VIP), lab.mac('a'), 'c still points at a: it missed the takeover');
  await b.announce({ vip: 'web', address: VIP, nodeId: 'b', epoch: 2 });
  await waitFor(() => lab.neighbour('c', VIP) === lab.mac('b'), 'c repointed at b by the re-announce', 3000, 10);
});

test('linux driver: a missing interface is a VipDriverError', { skip, timeout: 30_000 }, async (t) => {
  const lab = createLab(['a']);
  t.after(() => lab.destroy());
  const d = driverOn(lab, 'a', { interface: 'nosuch0' });
  await assert.rejects(d.up({ vip: 'web', address: VIP, nodeId: 'a', epoch: 1 }), { code: 'WSHA_ERR_VIP_DRIVER' });
});

test('wsha vip cleanup (the ExecStopPost step) removes the address a killed node left, and is idempotent', { skip, timeout: 30_000 }, async (t) => {
  const lab = createLab(['a']);
  t.after(() => lab.destroy());
  const scratch = scratchDir();
  t.after(() => scratch.remove());
  const a = lab.member('a');
  lab.ipIn(a.ns, ['addr', 'add', `${VIP}/32`, 'dev', a.iface]);
  const file = join(scratch.dir, 'a.yaml');
  writeFileSync(file, labNodeConfig(lab, 'a', { redisUrl: 'redis://127.0.0.1:1', vipAddress: VIP, priority: 100 }));
  const cli = resolve(__dirname, '..', '..', 'cluster', 'cli', 'main.js');
  for (let i = 0; i < 2; i++) {
    const r = spawnSync('ip', ['netns', 'exec', a.ns, process.execPath, cli, 'vip', 'cleanup', '--config', file], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, `run ${i + 1}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`web: ${VIP.replace(/\./g, '\\.')} removed from eth0`));
    assert.equal(lab.hasAddress('a', VIP), false);
  }
});
