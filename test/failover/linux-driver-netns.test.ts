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
import { createLab, netnsAvailable, LAB_SUBNET, LAB_SUBNET6, type NetnsLab } from '../harness/netns';
import { waitFor } from '../harness/ports';
import { labNodeConfig, scratchDir, startLabBackend, startLabNode, startLabProbe, startLabRedis, type LabNode } from '../harness/netns-node';
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

/** Whether a program is missing from the PATH. */
function toolMissing(file: string): boolean {
  return spawnSync(file, ['-V'], { stdio: 'ignore' }).error !== undefined;
}

/** Makes c resolve the VIP through the kernel (a TCP connect to a closed port: refused is fine). */
function touchFromClient(lab: NetnsLab, address = VIP): void {
  const script = `const s=require('net').connect(9,'${address}');s.on('error',()=>{});s.on('connect',()=>s.destroy());setTimeout(()=>process.exit(0),500)`;
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

for (const family of ['IPv4', 'IPv6'] as const) {
  const vipAddr = family === 'IPv4' ? VIP : `${LAB_SUBNET6}:100`;
  const tool = family === 'IPv4' ? 'arping' : 'na6';
  const skipFamily = skip || (toolMissing(tool) ? `needs ${tool}` : false);
  test(`linux driver, ${family}: announce after a heal repoints a client that was left on the old owner`, { skip: skipFamily, timeout: 60_000 }, async (t) => {
    const lab = createLab(['a', 'b', 'c']);
    t.after(() => lab.destroy());
    const prefix = family === 'IPv4' ? 32 : 128;
    const a = driverOn(lab, 'a', { address: vipAddr, prefix, garpCount: 1 });
    const b = driverOn(lab, 'b', { address: vipAddr, prefix, garpCount: 1 });
    t.after(() => { a.close(); b.close(); });
    const ctx = (nodeId: string, epoch: number) => ({ vip: 'web', address: vipAddr, nodeId, epoch });
    await a.up(ctx('a', 1));
    touchFromClient(lab, vipAddr);
    assert.equal(lab.neighbour('c', vipAddr), lab.mac('a'));
    // b takes over while cut off from c at the bridge: its announcements never reach c.
    // (Cutting c's own port would flush c's cache on carrier loss.)
    lab.partition('b');
    await a.down(ctx('a', 1));
    await b.up(ctx('b', 2));
    // up() does not wait for its announcement (arping/na6 run in the background):
    // give it time to go out, into the cut, before the heal.
    await new Promise((r) => setTimeout(r, 1000));
    lab.heal('b');
    assert.equal(lab.neighbour('c', vipAddr), lab.mac('a'), 'c still points at a: it missed the takeover');
    await b.announce(ctx('b', 2));
    await waitFor(() => lab.neighbour('c', vipAddr) === lab.mac('b'), 'c repointed at b by the re-announce', 3000, 10);
  });
}

test('linux driver, IPv6: the kernel\'s unsolicited NA repoints the client to the new owner', { skip, timeout: 60_000 }, async (t) => {
  const lab = createLab(['a', 'b', 'c']);
  t.after(() => lab.destroy());
  const vip6 = `${LAB_SUBNET6}:100`;
  // garpCount 0: no na6 series, so only the kernel's NA (ndisc_notify) can repoint c.
  const a = driverOn(lab, 'a', { address: vip6, prefix: 128, garpCount: 0 });
  const b = driverOn(lab, 'b', { address: vip6, prefix: 128, garpCount: 0 });
  const ctx = (nodeId: string, epoch: number) => ({ vip: 'web', address: vip6, nodeId, epoch });
  await a.up(ctx('a', 1));
  assert.ok(lab.hasAddress('a', vip6));
  touchFromClient(lab, vip6);
  assert.equal(lab.neighbour('c', vip6), lab.mac('a'), 'c resolved the IPv6 VIP to host a');
  await b.up(ctx('b', 2)); // a keeps it, as after a kill: only b's NA can repoint c
  await waitFor(() => lab.neighbour('c', vip6) === lab.mac('b'), 'c neighbour entry pointing at b after the unsolicited NA', 3000, 10);
  await a.cleanup({ vip: 'web', address: vip6, nodeId: 'a' });
  await b.down(ctx('b', 2));
  assert.equal(lab.hasAddress('a', vip6) || lab.hasAddress('b', vip6), false);
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

/**
 * Two real wsha nodes (linux driver) on hosts a and b, Redis in the hub
 * namespace, a probe in c retrying handshakes on the VIP every 5 ms.
 *   1. a owns; c reaches the VIP on a.
 *   2. a's link goes down (partition): b takes over; a's link comes back
 *      (heal): a has stepped down and removed the address, c's neighbour
 *      entry points at b, and every handshake since is answered by b.
 *   3. the owner's node (b) is killed with SIGKILL: its VIP guard removes
 *      the address before the standby may prove the death; the other takes
 *      over; the gap is printed; the service manager's cleanup is then a no-op.
 */
test('two wsha nodes with the linux driver: partition and heal, then SIGKILL of the owner', { skip, timeout: 90_000 }, async (t) => {
  const lab = createLab(['a', 'b', 'c']);
  t.after(() => lab.destroy());
  const scratch = scratchDir();
  t.after(() => scratch.remove());
  const redis = await startLabRedis(lab);
  await startLabBackend(lab, 'a');
  await startLabBackend(lab, 'b');
  const nodeA = startLabNode(lab, 'a', scratch.dir, labNodeConfig(lab, 'a', { redisUrl: redis.url, vipAddress: VIP, priority: 200 }));
  let nodeB: LabNode | undefined;
  const dump = () => `\n--- node a ---\n${nodeA.output.slice(-40).join('\n')}\n--- node b ---\n${(nodeB?.output ?? []).slice(-40).join('\n')}\n--- probe ---\n${JSON.stringify(probe.events.slice(-10))}`;
  const probe = startLabProbe(lab, 'c', VIP, 5);
  t.after(() => probe.stop());
  await probe.firstAnswerFrom('a', 0, 20_000).catch((e) => { throw new Error(`${e.message}${dump()}`); });
  nodeB = startLabNode(lab, 'b', scratch.dir, labNodeConfig(lab, 'b', { redisUrl: redis.url, vipAddress: VIP, priority: 100 }));
  const b = nodeB;
  await waitFor(() => b.output.some((l) => /ready|standby/.test(l)), 'node b up as standby', 20_000, 50).catch((e) => { throw new Error(`${e.message}${dump()}`); });
  // A node that joins takes a silent owner's expired lease only once that owner counted on it (its peer link to the
  // owner was up): before that the owner, cut off, may still hold the VIP on grants that did not include it.
  await waitFor(() => b.output.some((l) => l.includes('"peer link up"') && l.includes('"peer":"a"')), 'b linked to a', 20_000, 50).catch((e) => { throw new Error(`${e.message}${dump()}`); });
  assert.ok(lab.hasAddress('a', VIP) && !lab.hasAddress('b', VIP));
  assert.equal(lab.neighbour('c', VIP), lab.mac('a'));
  // Each node's guard keeps a raw GARP sender open on the VIP's interface (socat; arping without it).
  const rawSender = (n: LabNode) => n.output.some((l) => l.includes('raw gratuitous-ARP sender ready'));
  if (!toolMissing('socat')) await waitFor(() => rawSender(nodeA) && rawSender(b), 'both guards\' raw GARP senders ready', 10_000, 50).catch((e) => { throw new Error(`${e.message}${dump()}`); });

  // 2. partition a (its link down), b takes over, heal.
  const cutAt = Date.now();
  lab.linkDown('a');
  const firstB = await probe.firstAnswerFrom('b', cutAt, 15_000).catch((e) => { throw new Error(`${e.message}${dump()}`); });
  t.diagnostic(`link down of the owner: b answered on the VIP ${firstB.ts - cutAt} ms after a's link went down`);
  await waitFor(() => !lab.hasAddress('a', VIP), 'a removing the VIP after losing its lease', 10_000, 20).catch((e) => { throw new Error(`${e.message}${dump()}`); });
  const healAt = Date.now();
  lab.linkUp('a');
  // Past the GARP series and a's rejoin: exactly one host holds the VIP, c's
  // neighbour entry points at that host, and only it answers. (b keeps the VIP
  // unless it lost its own lease meanwhile, e.g. stalled on a loaded machine.)
  await new Promise((r) => setTimeout(r, 2000));
  const holders = ['a', 'b'].filter((h) => lab.hasAddress(h, VIP));
  assert.equal(holders.length, 1, `exactly one host holds the VIP after the heal: ${holders.join(', ')}${dump()}`);
  const owner = holders[0] as string;
  if (owner !== 'b') t.diagnostic(`b lost the VIP after the heal (to ${owner}); see the node logs`);
  await waitFor(() => lab.neighbour('c', VIP) === lab.mac(owner), `c neighbour entry pointing at ${owner} after the heal`, 3000, 20);
  const afterHeal = probe.events.filter((e) => e.ts >= healAt && e.who);
  if (owner === 'b') assert.ok(afterHeal.every((e) => e.who === 'b'), `no handshake answered by a after the heal: ${JSON.stringify(afterHeal)}`);
  await waitFor(() => probe.events[probe.events.length - 1]?.who === owner, `the probe reaching ${owner}`, 3000, 20)
    .catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(probe.events.slice(-5))}`); });

  // 3. SIGKILL of the owner: the other node takes over.
  const standby = owner === 'a' ? 'b' : 'a';
  const victim = owner === 'a' ? nodeA : b;
  await new Promise((r) => setTimeout(r, 3000)); // the standby's heartbeats fresh and its peer link re-established
  const killAt = Date.now();
  victim.proc.kill('SIGKILL');
  const first = await probe.firstAnswerFrom(standby, killAt, 15_000).catch((e) => { throw new Error(`${e.message}${dump()}`); });
  t.diagnostic(`SIGKILL of the owner: ${standby} answered on the VIP ${first.ts - killAt} ms after the kill`);
  assert.ok(first.ts - killAt < 5000, `takeover after SIGKILL took ${first.ts - killAt} ms`);
  await waitFor(() => lab.neighbour('c', VIP) === lab.mac(standby), `c pointing at ${standby} after the takeover`, 5000, 20);
  const survivor = standby === 'a' ? nodeA : b;
  const added = survivor.output.filter((l) => l.includes('"vip address added"')).pop() ?? '';
  // With socat the first announcement left from the guard with the add; without it arping sent it.
  const senderLines = survivor.output.filter((l) => l.includes('gratuitous-ARP sender')).join('\n');
  assert.match(added, toolMissing('socat') ? /"announced":false/ : /"announced":true/, `the takeover's address add: ${added}\n${senderLines}${dump()}`);
  // The dead node's guard took its address away (before the standby could prove the death); the cleanup finds nothing.
  assert.equal(lab.hasAddress(owner, VIP), false, 'the guard of the SIGKILLed node removed its address');
  const cli = resolve(__dirname, '..', '..', 'cluster', 'cli', 'main.js');
  const r = spawnSync('ip', ['netns', 'exec', lab.member(owner).ns, process.execPath, cli, 'vip', 'cleanup', '--config', victim.configFile], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(lab.hasAddress(owner, VIP), false);
  assert.ok(lab.hasAddress(standby, VIP));
});
