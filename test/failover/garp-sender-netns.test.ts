/**
 * The VIP guard's raw gratuitous-ARP sender (cluster/vip/guard/garp-sender.ts)
 * on a real bridge: host a's sender repoints client c's neighbour entry for
 * the VIP, several VIPs announced at once stay separate frames, and a sender
 * that cannot run (no socat, an interface without an Ethernet address) says
 * why and sends nothing. Skipped without root, ip netns or socat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { GarpSender, type Spawner } from '../../cluster/vip/guard/garp-sender';
import { createLab, ip, netnsAvailable, LAB_SUBNET, type NetnsLab } from '../harness/netns';
import { waitFor } from '../harness/ports';

const FAKE_MAC = '02:00:00:00:00:99';
const socatMissing = spawnSync('socat', ['-V'], { stdio: 'ignore' }).error !== undefined;
const skip = !netnsAvailable() ? 'needs root and ip netns' : socatMissing ? 'needs socat' : false;

/** Runs the sender's commands inside a namespace, as a guard started there would. */
const inNs = (ns: string): Spawner => (file, args) => ({ file: 'ip', args: ['netns', 'exec', ns, file, ...args] });

/** A sender on a's eth0 and a promise of its first report. */
function senderOn(lab: NetnsLab, host: string, spawner: Spawner, dev = lab.member(host).iface) {
  let settle!: (r: { ready: boolean; reason?: string }) => void;
  const first = new Promise<{ ready: boolean; reason?: string }>((r) => { settle = r; });
  const s = new GarpSender(dev, (_d, ready, reason) => settle({ ready, reason }), spawner);
  return { s, first };
}

/** Plants a stale entry for `address` on c that points at nobody, as if the old owner had it. */
function plantStale(lab: NetnsLab, address: string): void {
  const c = lab.member('c');
  ip(['-n', c.ns, 'neigh', 'replace', address, 'lladdr', FAKE_MAC, 'dev', c.iface, 'nud', 'stale']);
  assert.equal(lab.neighbour('c', address), FAKE_MAC);
}

test('raw GARP sender: one write repoints a client; VIPs announced together each get their frame', { skip, timeout: 30_000 }, async (t) => {
  const lab = createLab(['a', 'c']);
  t.after(() => lab.destroy());
  const { s, first } = senderOn(lab, 'a', inNs(lab.member('a').ns));
  t.after(() => s.close());
  assert.equal(s.send(`${LAB_SUBNET}.100`), false, 'nothing is sent before the sender runs');
  s.prepare();
  assert.deepEqual(await first, { ready: true, reason: undefined });
  assert.equal(s.state, 'ready');

  const vips = [`${LAB_SUBNET}.100`, `${LAB_SUBNET}.101`, `${LAB_SUBNET}.102`];
  for (const v of vips) plantStale(lab, v);
  for (const v of vips) assert.equal(s.send(v), true);
  for (const v of vips) await waitFor(() => lab.neighbour('c', v) === lab.mac('a'), `c's entry for ${v} pointing at a`, 3000, 10);
  assert.equal(s.state, 'ready', 'the sender stays open for the next announcement');
  plantStale(lab, vips[0]!);
  assert.equal(s.send(vips[0]!), true);
  await waitFor(() => lab.neighbour('c', vips[0]!) === lab.mac('a'), 'a second announcement from the same sender', 3000, 10);
});

test('raw GARP sender that cannot run: socat missing, or an interface with no Ethernet address, says why and sends nothing', { skip, timeout: 30_000 }, async (t) => {
  const lab = createLab(['a', 'c']);
  t.after(() => lab.destroy());
  const ns = lab.member('a').ns;

  const noSocat = senderOn(lab, 'a', (file, args) => (file === 'socat' ? { file: '/nonexistent/socat', args } : inNs(ns)(file, args)));
  t.after(() => noSocat.s.close());
  noSocat.s.prepare();
  const r1 = await noSocat.first;
  assert.equal(r1.ready, false);
  assert.match(r1.reason ?? '', /socat is not installed/);
  assert.equal(noSocat.s.state, 'failed');
  assert.equal(noSocat.s.send(`${LAB_SUBNET}.100`), false);

  const loopback = senderOn(lab, 'a', inNs(ns), 'lo');
  t.after(() => loopback.s.close());
  loopback.s.prepare();
  const r2 = await loopback.first;
  assert.equal(r2.ready, false);
  assert.match(r2.reason ?? '', /lo has no Ethernet address/);

  const gone = senderOn(lab, 'a', inNs(ns), 'eth9');
  t.after(() => gone.s.close());
  gone.s.prepare();
  const r3 = await gone.first;
  assert.equal(r3.ready, false);
  assert.match(r3.reason ?? '', /ip link show dev eth9/);
});

test('raw GARP sender after a link flap: a send on a down link ends socat, the sender starts again on its own', { skip, timeout: 30_000 }, async (t) => {
  const lab = createLab(['a', 'c']);
  t.after(() => lab.destroy());
  const reports: Array<{ ready: boolean; reason?: string }> = [];
  const s = new GarpSender(lab.member('a').iface, (_d, ready, reason) => reports.push({ ready, reason }), inNs(lab.member('a').ns));
  t.after(() => s.close());
  s.prepare();
  await waitFor(() => s.state === 'ready', 'sender ready', 5000, 10);
  lab.linkDown('a');
  assert.equal(s.send(`${LAB_SUBNET}.100`), true, 'written; the kernel refuses it on the down link');
  await waitFor(() => reports.some((r) => !r.ready), 'the failure reported', 5000, 10);
  assert.match(reports.find((r) => !r.ready)?.reason ?? '', /socat ended/);
  lab.linkUp('a');
  await waitFor(() => s.state === 'ready', 'ready again without being asked', 10_000, 20);
  plantStale(lab, `${LAB_SUBNET}.100`);
  assert.equal(s.send(`${LAB_SUBNET}.100`), true);
  await waitFor(() => lab.neighbour('c', `${LAB_SUBNET}.100`) === lab.mac('a'), 'the restarted sender repoints c', 3000, 10);
});
