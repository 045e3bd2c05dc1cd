/**
 * Peer-link faults between two real wsha nodes (linux driver) in network
 * namespaces, with nftables inside the hosts:
 *   - the owner's peer port answers the standby with TCP resets while both
 *     are alive: the standby's link is reset and every reconnect refused, but
 *     the owner still beats on its own link and its lease connection is in
 *     Redis: no proof of death, no takeover, never two owners;
 *   - two hosts with the default loopback node.peer.listen: the second node
 *     refuses to start, naming the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, netnsAvailable, LAB_SUBNET } from '../harness/netns';
import { labNodeConfig, scratchDir, startLabBackend, startLabNode, startLabProbe, startLabRedis, LAB_PORTS } from '../harness/netns-node';
import { NftFaults } from '../faults/nft';
import { waitFor } from '../harness/ports';
import { execFileSync } from 'node:child_process';

const VIP = `${LAB_SUBNET}.101`;
const hasNft = (() => { try { execFileSync('nft', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
const skip = !netnsAvailable() ? 'needs root and ip netns' : !hasNft ? 'needs nft (nftables)' : false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('an RST on the standby\'s link to a live owner proves nothing: the owner keeps the VIP', { skip, timeout: 60_000 }, async (t) => {
  const lab = createLab(['a', 'b', 'c']);
  t.after(() => lab.destroy());
  const scratch = scratchDir();
  t.after(() => scratch.remove());
  const redis = await startLabRedis(lab);
  await startLabBackend(lab, 'a');
  await startLabBackend(lab, 'b');
  const a = startLabNode(lab, 'a', scratch.dir, labNodeConfig(lab, 'a', { redisUrl: redis.url, vipAddress: VIP, priority: 200 }));
  const probe = startLabProbe(lab, 'c', VIP, 20);
  t.after(() => probe.stop());
  await probe.firstAnswerFrom('a', 0, 20_000);
  const b = startLabNode(lab, 'b', scratch.dir, labNodeConfig(lab, 'b', { redisUrl: redis.url, vipAddress: VIP, priority: 100 }));
  await waitFor(() => b.output.some((l) => /peer link up/.test(l)) && a.output.some((l) => /peer link up/.test(l)), 'peer links up', 20_000, 50);
  await sleep(1000);
  const nft = new NftFaults(lab);
  t.after(() => nft.heal());
  const at = Date.now();
  nft.resetPort('a', 'b', LAB_PORTS.peer);
  await sleep(3000);
  nft.heal();
  await sleep(500);
  const since = (l: string) => { try { return Date.parse((JSON.parse(l) as { time: string }).time) >= at; } catch { return false; } };
  assert.ok(b.output.some((l) => since(l) && /peer link lost/.test(l)), 'the standby saw its link reset');
  assert.ok(!b.output.some((l) => since(l) && /peer proven dead/.test(l)), 'but never proved the owner dead');
  assert.ok(!b.output.some((l) => since(l) && /"msg":"ownership change"/.test(l)), 'and never took the VIP');
  assert.ok(!a.output.some((l) => since(l) && /"msg":"ownership change"/.test(l)), 'the owner never stepped down');
  const after = probe.events.filter((e) => e.ts >= at && e.who);
  assert.ok(after.every((e) => e.who === 'a'), `only the owner answered: ${JSON.stringify(after.slice(-5))}`);
  assert.ok(lab.hasAddress('a', VIP) && !lab.hasAddress('b', VIP), 'one address holder');
});

test('two hosts with the default loopback node.peer.listen: the second refuses to start, naming the key', { skip, timeout: 60_000 }, async (t) => {
  const lab = createLab(['a', 'b']);
  t.after(() => lab.destroy());
  const scratch = scratchDir();
  t.after(() => scratch.remove());
  const redis = await startLabRedis(lab);
  await startLabBackend(lab, 'a');
  const a = startLabNode(lab, 'a', scratch.dir, labNodeConfig(lab, 'a', { redisUrl: redis.url, vipAddress: VIP, priority: 200, defaultPeerListen: true }));
  await waitFor(() => a.output.some((l) => /ownership change/.test(l)), 'a owns the VIP', 20_000, 50);
  const b = startLabNode(lab, 'b', scratch.dir, labNodeConfig(lab, 'b', { redisUrl: redis.url, vipAddress: VIP, priority: 100, defaultPeerListen: true }));
  const code = await new Promise<number | null>((resolve) => { b.proc.once('exit', (c) => resolve(c)); setTimeout(() => resolve(-1), 20_000).unref(); });
  assert.equal(code, 2, 'exit code 2 (config)');
  const text = b.output.join('\n');
  assert.match(text, /node\.peer\.listen: this node would advertise 127\.0\.0\.1:\d+, which only this host can reach/);
  assert.ok(a.output.every((l) => !/"msg":"ownership change".*"from":"a"/.test(l)), 'a kept the VIP');
});
