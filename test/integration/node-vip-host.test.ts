/**
 * The VipHost side of ProxyNode, as the control plane drives it: `vip:`
 * listeners open only through openVip (two nodes at once with SO_REUSEPORT,
 * as in a planned handover), stopAccepting keeps established tunnels,
 * closeClients closes them with 1012 spread over the window; live pool
 * changes close a removed backend's tunnels with 1012 after the grace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startBackend } from '../harness/backend';
import { startProxy, openWs, roundTrip, closeCode } from '../harness/proxy';
import { freePort, waitFor } from '../harness/ports';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';

const VIP = '127.0.0.151';

function vipConfig(port: number, backendUrls: string[], nodeId: string) {
  const raw = rawNodeConfig({ port: 0, backendUrls, nodeId });
  raw.vips = [{ name: 'main', driver: 'bind', address: VIP }];
  raw.listeners.push({ name: 'edge', on: 'vip:main', port });
  return nodeConfig(raw);
}

const refused = (port: number) => new Promise<boolean>((resolve) => {
  const s = connect(port, VIP);
  s.on('connect', () => { s.destroy(); resolve(false); });
  s.on('error', () => resolve(true));
});

test('vip listeners open through openVip; two nodes share the address with reusePort; stopAccepting keeps tunnels; closeClients sends 1012 paced', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const port = await freePort(VIP);
  const a = await startProxy(vipConfig(port, [b.url], 'node-a'));
  t.after(() => a.destroy());
  const c = await startProxy(vipConfig(port, [b.url], 'node-c'));
  t.after(() => c.destroy());
  assert.equal(a.isServing('main'), false);
  assert.ok(await refused(port), 'nothing listens on the VIP before openVip');

  await a.openVip('main', VIP, { reusePort: true });

  a.fence('main', Infinity); // the control plane's deadline: owned for good in this test
  assert.equal(a.isServing('main'), true);
  const url = `ws://${VIP}:${port}/`;
  const onA = await Promise.all([1, 2, 3, 4].map(() => openWs(url)));
  t.after(() => onA.forEach((w) => w.terminate()));
  assert.equal(a.tunnelCount('main'), 4);
  assert.equal(a.tunnelCount('other'), 0);

  await c.openVip('main', VIP, { reusePort: true });

  c.fence('main', Infinity); // the control plane's deadline: owned for good in this test
  await a.stopAccepting('main');
  assert.equal(a.isServing('main'), false);
  const onC = await openWs(url);
  t.after(() => onC.terminate());
  assert.equal(c.tunnelCount('main'), 1, 'new connections land on the node still accepting');
  for (const w of onA) assert.equal(await roundTrip(w, 'kept'), 'kept');

  const codes = onA.map((w) => closeCode(w, 8000));
  const started = Date.now();
  const closed = await a.closeClients('main', { code: 1012, reason: 'service restart', ratePerSec: 1000, windowMs: 400 });
  assert.equal(closed, 4);
  assert.deepEqual(await Promise.all(codes), [1012, 1012, 1012, 1012]);
  assert.ok(Date.now() - started >= 250, 'closes spread over the window');
  assert.equal(a.tunnelCount('main'), 0);
  assert.equal(await roundTrip(onC, 'other node untouched'), 'other node untouched');
  const snap = a.snapshot();
  assert.deepEqual(snap.listeners.map((l) => [l.name, l.serving]), [['public', true], ['edge', false]]);
});

test('updatePools: a removed backend takes no new connections and its tunnels get 1012 after the grace; reload keeps them', async (t) => {
  const [b1, b2] = await Promise.all([startBackend({ id: 'app-1' }), startBackend({ id: 'app-2' })]);
  t.after(() => Promise.all([b1.close(), b2.close()]));
  const raw = rawNodeConfig({ port: 0, backendUrls: [b1.url, b2.url] });
  const node = await startProxy(nodeConfig(raw));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const ws = await Promise.all([1, 2, 3, 4].map(() => openWs(url)));
  t.after(() => ws.forEach((w) => w.terminate()));
  const on = async (w: any) => JSON.parse(await roundTrip(w, 'whoami')).backend as string;
  const ids = await Promise.all(ws.map(on));
  assert.deepEqual([...ids].sort(), ['app-1', 'app-1', 'app-2', 'app-2']);

  // A reload that drops app-2 keeps its tunnels.
  const onlyFirst = nodeConfig({ ...raw, pools: { app: { ...raw.pools.app, backends: [raw.pools.app.backends[0]] } } });
  node.reload(onlyFirst);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(b2.openSockets(), 2);
  const fresh = await openWs(url);
  t.after(() => fresh.terminate());
  assert.equal(await on(fresh), 'app-1');

  // A live pool change that drops app-1 closes its tunnels with 1012 after the grace.
  const secondOnly = { app: { ...onlyFirst.pools.app, backends: [{ id: 'app-2', url: b2.url, weight: 1 }] } };
  const firstClients = ws.filter((_, i) => ids[i] === 'app-1').concat(fresh);
  const codes = firstClients.map((w) => closeCode(w, 8000));
  const started = Date.now();
  node.updatePools(secondOnly as any, { graceMs: 300 });
  const next = await openWs(url);
  t.after(() => next.terminate());
  assert.equal(await on(next), 'app-2');
  assert.deepEqual(await Promise.all(codes), [1012, 1012, 1012]);
  assert.ok(Date.now() - started >= 250);
  for (const [i, w] of ws.entries()) if (ids[i] === 'app-2') assert.equal(await roundTrip(w, 'kept'), 'kept');

  const n = await node.closeBackendTunnels('app', 'app-2', 1012);
  assert.equal(n, 3);
  assert.equal(node.rt.registry.size, 0);
});

test('a VIP reopened after stopAccepting serves again; connections of the old listener stay until destroy', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const port = await freePort(VIP);
  const node = await startProxy(vipConfig(port, [b.url], 'node-r'));
  t.after(() => node.destroy());
  await node.openVip('main', VIP, { reusePort: false });
  node.fence('main', Infinity); // the control plane's deadline: owned for good in this test
  const url = `ws://${VIP}:${port}/`;
  const first = await openWs(url);
  t.after(() => first.terminate());
  await node.stopAccepting('main');
  assert.ok(await refused(port));
  await node.openVip('main', VIP, { reusePort: false });
  node.fence('main', Infinity); // the control plane's deadline: owned for good in this test
  const second = await openWs(url);
  t.after(() => second.terminate());
  assert.equal(node.tunnelCount('main'), 2);
  assert.equal(await roundTrip(first, 'old listener'), 'old listener');
  const closed = [first, second].map((w) => new Promise((r) => w.once('close', r)));
  node.destroy();
  await Promise.all(closed);
  assert.ok(await refused(port));
});

test('a 1012 close while the backend is mid-message arrives as a clean close frame after that message', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url] })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  for (let round = 0; round < 5; round++) {
    const ws = await openWs(url, { perMessageDeflate: false });
    let messages = 0;
    let error: Error | null = null;
    ws.on('message', () => { messages++; });
    ws.on('error', (e) => { error = e; });
    const code = new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
    ws.send(`flood ${8 * 1024 * 1024}`);
    await waitFor(() => node.rt.registry.stats.bytesOut > 100_000 * (round + 1), 'flood under way');
    await node.closeBackendTunnels('app', 'app-1', 1012);
    assert.equal(await code, 1012, `round ${round}: clean 1012 (error: ${error ? (error as Error).message : 'none'}, ${messages} whole messages before it)`);
  }
});

test('the fence: requests on a VIP listener wait until the node owns the VIP, and get 503 once it let go', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const port = await freePort(VIP);
  const node = await startProxy(vipConfig(port, [b.url], 'node-f'));
  t.after(() => node.destroy());
  await node.openVip('main', VIP, { reusePort: true });
  const url = `ws://${VIP}:${port}/`;
  // Listening but not fenced yet (a handover target before its commit): the handshake waits...
  const early = openWs(url);
  let done = false;
  void early.then(() => { done = true; }, () => { done = true; });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(done, false, 'held at the fence');
  // ...and goes through once the control plane gives the node a deadline.
  node.fence('main', Infinity);
  const ws = await early;
  t.after(() => ws.terminate());
  assert.equal(await roundTrip(ws, 'in'), 'in');
  // Revoked: the next handshake is refused with 503, and the open tunnel is untouched.
  node.fence('main', null);
  await assert.rejects(openWs(url), /503/);
  assert.equal(await roundTrip(ws, 'still'), 'still');
});

test('openVip beside an address add: a bind that finds the address not local is retried within addressWaitMs, and stopAccepting ends the wait', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  // TEST-NET-1: never local here, so every bind finds EADDRNOTAVAIL, as before the driver's add lands.
  const NOT_LOCAL = '192.0.2.77';
  const port = await freePort(VIP);
  for (const reusePort of [false, true]) {
    const a = await startProxy(vipConfig(port, [b.url], `node-${reusePort ? 'r' : 'x'}`));
    t.after(() => a.destroy());
    const notLocal = (e: unknown) => (e as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL';

    await assert.rejects(a.openVip('main', NOT_LOCAL, { reusePort }), notLocal, 'no wait: the first failure is the answer');

    const t0 = performance.now();
    await assert.rejects(a.openVip('main', NOT_LOCAL, { reusePort, addressWaitMs: 150 }), notLocal);
    const waited = performance.now() - t0;
    assert.ok(waited >= 140 && waited < 5000, `gave up after its wait (${Math.round(waited)} ms)`);

    const opening = a.openVip('main', NOT_LOCAL, { reusePort, addressWaitMs: 10_000 });
    await new Promise((r) => setTimeout(r, 30));
    const t1 = performance.now();
    await a.stopAccepting('main');
    await assert.rejects(opening, (e: unknown) => (e as { code?: string }).code === 'WSHA_ERR_NOT_OWNER');
    assert.ok(performance.now() - t1 < 1000, 'stopAccepting ended the wait at once');
    assert.equal(a.isServing('main'), false);

    // An address that is local binds on the first try, wait or not.
    await a.openVip('main', VIP, { reusePort, addressWaitMs: 10_000 });
    assert.equal(a.isServing('main'), true);
    await a.stopAccepting('main');
  }
});
