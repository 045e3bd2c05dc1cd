/**
 * linux VIP driver: argument building, address parsing, idempotence and the
 * GARP series, with a runner that records every command and answers like
 * `ip` does. The driver in real namespaces is in test/failover/linux-driver-netns.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinuxDriver, ipv6SysctlArgs, na6Args, arpingArgs, canonicalAddress, ipAddrArgs, ipShowArgs, listsAddress, type CommandRunner } from '../../../../cluster/vip/drivers/linux';
import type { CommandResult } from '../../../../cluster/vip/drivers/commands';
import type { VipConfig } from '../../../../shared/config/schema';
import { VipDriverError } from '../../../../shared/errors';
import { silentLogger } from '../../../../shared/logger';
import { sleep } from '../../../harness/ports';

const ok = (stdout = ''): CommandResult => ({ code: 0, signal: null, stdout, stderr: '', durationMs: 1, timedOut: false, spawnError: undefined });
const fail = (stderr: string): CommandResult => ({ code: 2, signal: null, stdout: '', stderr, durationMs: 1, timedOut: false, spawnError: undefined });

function vip(over: Partial<VipConfig> = {}): VipConfig {
  return { name: 'web', driver: 'linux', address: '10.9.0.10', interface: 'eth7', preempt: false, execTimeoutMs: 1000, garpCount: 3, garpIntervalMs: 20, ...over };
}

/** A fake interface that `ip` commands act on, recording every call. */
function fakeHost(initial: string[] = []) {
  const addrs = new Set(initial);
  const calls: string[] = [];
  const run: CommandRunner = async (file, args) => {
    calls.push(`${file} ${args.join(' ')}`);
    if (file === 'arping' || file === 'sysctl' || file === 'na6') return ok();
    const [, sub, action, cidr] = args;
    if (sub === 'addr' && action === 'add') {
      if (addrs.has(cidr as string)) return fail('Error: ipv4: Address already assigned.');
      addrs.add(cidr as string); return ok();
    }
    if (sub === 'addr' && action === 'del') {
      if (!addrs.has(cidr as string)) return fail('Error: ipv4: Address not found.');
      addrs.delete(cidr as string); return ok();
    }
    if (sub === 'addr' || args.includes('show')) return ok([...addrs].map((a, i) => `${i + 2}: eth7    inet ${a} scope global eth7\\       valid_lft forever`).join('\n'));
    return fail('unexpected');
  };
  return { addrs, calls, run };
}

const ctx = { vip: 'web', address: '10.9.0.10', nodeId: 'a', epoch: 4 };

test('argument lists for ip and arping', () => {
  assert.deepEqual(ipAddrArgs('add', '10.9.0.10', 32, 'eth0'), ['-4', 'addr', 'add', '10.9.0.10/32', 'dev', 'eth0']);
  assert.deepEqual(ipAddrArgs('del', 'fd00::10', 64, 'eth1'), ['-6', 'addr', 'del', 'fd00::10/64', 'dev', 'eth1']);
  assert.deepEqual(ipShowArgs('10.9.0.10', 'eth0'), ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
  assert.deepEqual(arpingArgs('10.9.0.10', 'eth0'), ['-U', '-c', '1', '-w', '1', '-I', 'eth0', '10.9.0.10']);
});

test('address listing is parsed per address, not per substring', () => {
  const out = '2: eth0    inet 10.9.0.100/24 brd 10.9.0.255 scope global eth0\n2: eth0    inet6 fd00::1/64 scope global';
  assert.equal(listsAddress(out, '10.9.0.100'), true);
  assert.equal(listsAddress(out, '10.9.0.10'), false);
  assert.equal(listsAddress(out, 'fd00:0:0::0001'), true);
  assert.equal(canonicalAddress('FD00:0::1'), 'fd00::1');
});

test('up adds with the default /32 and sends garpCount gratuitous ARPs spaced by the interval', async () => {
  const h = fakeHost();
  const d = new LinuxDriver(vip(), silentLogger(), h.run);
  assert.equal(d.reusePort, false);
  await d.up(ctx);
  assert.ok(h.addrs.has('10.9.0.10/32'));
  assert.equal(h.calls.filter((c) => c.startsWith('arping')).length, 1, 'the first GARP is sent before up resolves');
  await sleep(200);
  assert.equal(h.calls.filter((c) => c.startsWith('arping')).length, 3);
  d.close();
});

test('up and down are idempotent; a real failure is a VipDriverError', async () => {
  const h = fakeHost(['10.9.0.10/24']);
  const d = new LinuxDriver(vip({ prefix: 24, garpCount: 0 }), silentLogger(), h.run);
  await d.up(ctx); // already there: "Address already assigned" is fine
  await d.down(ctx);
  await d.down(ctx); // already gone: fine
  await d.cleanup({ vip: 'web', address: '10.9.0.10', nodeId: 'a' });
  assert.equal(h.addrs.size, 0);
  const broken: CommandRunner = async (file, args) => (args.includes('show') ? ok('') : fail('Cannot find device "eth7"'));
  const d2 = new LinuxDriver(vip({ garpCount: 0 }), silentLogger(), broken);
  await assert.rejects(d2.up(ctx), (e: unknown) => e instanceof VipDriverError && e.code === 'WSHA_ERR_VIP_DRIVER' && /eth7/.test(e.message));
});

test('down cancels the rest of a GARP series', async () => {
  const h = fakeHost();
  const d = new LinuxDriver(vip({ garpCount: 5, garpIntervalMs: 40 }), silentLogger(), h.run);
  await d.up(ctx);
  await d.down(ctx);
  await sleep(300);
  assert.equal(h.calls.filter((c) => c.startsWith('arping')).length, 1);
});

test('a failed GARP does not fail up (the address is there), a missing interface option does', async () => {
  const h = fakeHost();
  const run: CommandRunner = async (file, args, opts) => (file === 'arping' ? fail('arping: interface is down') : h.run(file, args, opts));
  const d = new LinuxDriver(vip({ garpCount: 1 }), silentLogger(), run);
  await d.up(ctx);
  assert.ok(h.addrs.has('10.9.0.10/32'));
  assert.throws(() => new LinuxDriver(vip({ interface: undefined }), silentLogger(), run), VipDriverError);
});

test('cleanup at start and an up right after it never race: the address ends up present', async () => {
  const h = fakeHost(['10.9.0.10/32']);
  // The first `ip` command (cleanup's del) is slow; were up's add to run alongside, the del would land last.
  let first = true;
  const slow: CommandRunner = async (file, args, opts) => {
    if (file === 'ip' && first) { first = false; await sleep(100); }
    return h.run(file, args, opts);
  };
  const d = new LinuxDriver(vip({ garpCount: 0 }), silentLogger(), slow);
  const cleaning = d.cleanup({ vip: 'web', address: '10.9.0.10', nodeId: 'a' });
  await d.up(ctx);
  await cleaning;
  assert.deepEqual(h.calls, ['ip -4 addr del 10.9.0.10/32 dev eth7', 'ip -4 addr add 10.9.0.10/32 dev eth7']);
  assert.ok(h.addrs.has('10.9.0.10/32'));
});

test('an IPv6 VIP: sysctls first (NA on add, no DAD), /128 by default, then unsolicited NAs with na6', async () => {
  assert.deepEqual(ipv6SysctlArgs('eth0.100'), ['-q', '-w', 'net/ipv6/conf/eth0.100/ndisc_notify=1', 'net/ipv6/conf/eth0.100/accept_dad=0']);
  assert.deepEqual(na6Args('fd00::10', 'eth0'), ['-i', 'eth0', '-s', 'fd00::10', '-d', 'ff02::1', '-t', 'fd00::10', '-o', '-e']);
  const h = fakeHost();
  const d = new LinuxDriver(vip({ address: 'fd00::10', garpCount: 2, garpIntervalMs: 20 }), silentLogger(), h.run);
  await d.up({ ...ctx, address: 'fd00::10' });
  await sleep(100);
  assert.deepEqual(h.calls, [
    'sysctl -q -w net/ipv6/conf/eth7/ndisc_notify=1 net/ipv6/conf/eth7/accept_dad=0',
    'ip -6 addr add fd00::10/128 dev eth7',
    'na6 -i eth7 -s fd00::10 -d ff02::1 -t fd00::10 -o -e',
    'na6 -i eth7 -s fd00::10 -d ff02::1 -t fd00::10 -o -e',
  ]);
});

test('IPv6 without na6 installed: up still works, announce stops trying after the first ENOENT', async () => {
  const h = fakeHost();
  const missing: CommandResult = { ...fail(''), code: null, spawnError: Object.assign(new Error('spawn na6 ENOENT'), { code: 'ENOENT' }) };
  let na6Calls = 0;
  const run: CommandRunner = async (file, args, opts) => (file === 'na6' ? (na6Calls++, missing) : h.run(file, args, opts));
  const d = new LinuxDriver(vip({ address: 'fd00::10', garpCount: 3, garpIntervalMs: 10 }), silentLogger(), run);
  await d.up({ ...ctx, address: 'fd00::10' });
  await sleep(100);
  await d.announce({ ...ctx, address: 'fd00::10' });
  await sleep(50);
  assert.ok(h.addrs.has('fd00::10/128'));
  assert.equal(na6Calls, 1);
});

/** A raw GARP sender that records what it sent; `ready` false stands for one that is not there (no socat). */
function fakeGarp(ready: boolean) {
  const prepared: string[] = [];
  const sent: string[] = [];
  return { prepared, sent, port: { prepare: (dev: string) => { prepared.push(dev); }, send: async (dev: string, address: string) => { if (ready) sent.push(`${dev} ${address}`); return ready; } } };
}

test('with a raw GARP sender: the first announcement leaves with the add, the repeats through the sender, no arping', async () => {
  const h = fakeHost();
  const g = fakeGarp(true);
  const adds: string[] = [];
  const ipChange = async (action: 'add' | 'del', address: string, prefix: number, dev: string, announce?: boolean) => {
    adds.push(`${action} ${address}/${prefix} ${dev} announce=${announce}`);
    if (action === 'add') h.addrs.add(`${address}/${prefix}`); else h.addrs.delete(`${address}/${prefix}`);
    return { present: action === 'add', announced: announce === true };
  };
  const d = new LinuxDriver(vip({ garpCount: 3, garpIntervalMs: 20 }), silentLogger(), h.run, ipChange, undefined, g.port);
  assert.deepEqual(g.prepared, ['eth7'], 'the sender is prepared when the driver is built');
  await d.up(ctx);
  assert.deepEqual(adds, ['add 10.9.0.10/32 eth7 announce=true']);
  assert.deepEqual(g.sent, [], 'the first went out with the add, not again');
  await sleep(150);
  assert.deepEqual(g.sent, ['eth7 10.9.0.10', 'eth7 10.9.0.10'], 'the two repeats');
  await d.announce(ctx);
  assert.deepEqual(g.sent.length, 3, 'a re-announcement sends at once');
  assert.equal(h.calls.filter((c) => c.startsWith('arping')).length, 0);
  d.close();
});

test('a raw GARP sender that is not ready: arping does every announcement; an add that did not announce is followed by one', async () => {
  const h = fakeHost();
  const g = fakeGarp(false);
  const ipChange = async (action: 'add' | 'del', address: string, prefix: number) => {
    if (action === 'add') h.addrs.add(`${address}/${prefix}`);
    return { present: action === 'add', announced: false };
  };
  const d = new LinuxDriver(vip({ garpCount: 2, garpIntervalMs: 20 }), silentLogger(), h.run, ipChange, undefined, g.port);
  await d.up(ctx);
  assert.equal(h.calls.filter((c) => c.startsWith('arping')).length, 1);
  await sleep(100);
  assert.equal(h.calls.filter((c) => c.startsWith('arping')).length, 2);
  d.close();
});

test('an IPv6 VIP never asks the raw GARP sender (the kernel and na6 announce it)', async () => {
  const h = fakeHost();
  const g = fakeGarp(true);
  const d = new LinuxDriver(vip({ address: 'fd00::10', garpCount: 2, garpIntervalMs: 10 }), silentLogger(), h.run, undefined, undefined, g.port);
  await d.up({ ...ctx, address: 'fd00::10' });
  await sleep(60);
  assert.deepEqual(g.prepared, []);
  assert.deepEqual(g.sent, []);
  assert.equal(h.calls.filter((c) => c.startsWith('na6')).length, 2);
  d.close();
});
