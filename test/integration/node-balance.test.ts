/**
 * Balancing through a real node: round-robin spreads (by weight),
 * least-conn sends new tunnels to the idle backend, sticky keeps a session
 * key on one backend (cookie, header, query, client address) and sets the
 * cookie when asked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, type TestBackend } from '../harness/backend';
import { startProxy, openWs, roundTrip } from '../harness/proxy';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';
import type WebSocket from 'ws';
import { localClusterView } from '../../shared/cluster-view';
import { waitFor } from '../harness/ports';

async function backends(t: { after(fn: () => unknown): void }, n: number): Promise<TestBackend[]> {
  const list = await Promise.all(Array.from({ length: n }, (_, i) => startBackend({ id: `app-${i + 1}` })));
  t.after(() => Promise.all(list.map((b) => b.close())));
  return list;
}

async function whoami(ws: WebSocket): Promise<string> { return JSON.parse(await roundTrip(ws, 'whoami')).backend; }

test('round-robin spreads connections evenly, and by weight', async (t) => {
  const bs = await backends(t, 3);
  const raw = rawNodeConfig({ port: 0, backendUrls: bs.map((b) => b.url) });
  const node = await startProxy(nodeConfig(raw));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const seen: Record<string, number> = {};
  for (let i = 0; i < 9; i++) {
    const ws = await openWs(url);
    const id = await whoami(ws);
    seen[id] = (seen[id] ?? 0) + 1;
    ws.terminate();
  }
  assert.deepEqual(seen, { 'app-1': 3, 'app-2': 3, 'app-3': 3 });
  raw.pools.app.backends[0].weight = 4;
  node.reload(nodeConfig(raw));
  const weighted: Record<string, number> = {};
  for (let i = 0; i < 12; i++) {
    const ws = await openWs(url);
    const id = await whoami(ws);
    weighted[id] = (weighted[id] ?? 0) + 1;
    ws.terminate();
  }
  assert.deepEqual(weighted, { 'app-1': 8, 'app-2': 2, 'app-3': 2 });
});

test('least-conn sends new connections to the idle backend', async (t) => {
  const bs = await backends(t, 2);
  const raw = rawNodeConfig({ port: 0, backendUrls: bs.map((b) => b.url), balance: 'least-conn' });
  raw.pools.app.backends[1].weight = 0;
  const node = await startProxy(nodeConfig(raw));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const held: WebSocket[] = [];
  t.after(() => held.forEach((w) => w.terminate()));
  // Load app-1 with 5 tunnels while app-2 takes nothing (weight 0), then let app-2 in.
  for (let i = 0; i < 5; i++) { const ws = await openWs(url); held.push(ws); assert.equal(await whoami(ws), 'app-1'); }
  raw.pools.app.backends[1].weight = 1;
  node.reload(nodeConfig(raw));
  for (let i = 0; i < 4; i++) {
    const ws = await openWs(url);
    held.push(ws);
    assert.equal(await whoami(ws), 'app-2', `connection ${i} goes to the less loaded backend`);
  }
  const snap = node.snapshot();
  assert.deepEqual(snap.tunnelsByPool.app, { 'app-1': 5, 'app-2': 4 });
});

test('sticky keeps a cookie, header or query key on one backend, and falls back to the client address', async (t) => {
  const bs = await backends(t, 4);
  for (const sticky of [{ cookie: 'sid' }, { header: 'X-Session' }, { query: 'session' }, undefined]) {
    const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: bs.map((b) => b.url), balance: 'sticky', pool: sticky ? { sticky } : {} })));
    const url = `ws://127.0.0.1:${node.portOf('public')}/`;
    try {
      const landed = new Map<string, Set<string>>();
      for (let k = 0; k < 6; k++) {
        for (let rep = 0; rep < 3; rep++) {
          const key = `user-${k}`;
          const ws = sticky?.query ? await openWs(`${url}?session=${key}`)
            : await openWs(url, { headers: sticky?.cookie ? { Cookie: `a=b; sid=${key}` } : sticky?.header ? { 'X-Session': key } : {} });
          const id = await whoami(ws);
          ws.terminate();
          if (!landed.has(key)) landed.set(key, new Set());
          landed.get(key)!.add(id);
        }
      }
      for (const [key, ids] of landed) assert.equal(ids.size, 1, `${JSON.stringify(sticky)}: ${key} stays on one backend (saw ${[...ids]})`);
      if (sticky) assert.ok(new Set([...landed.values()].map((s) => [...s][0])).size > 1, 'different keys spread over backends');
    } finally { node.destroy(); }
  }
});

test('sticky with setCookie sets the session cookie on the 101 and the backend sees it', async (t) => {
  const bs = await backends(t, 3);
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: bs.map((b) => b.url), balance: 'sticky', pool: { sticky: { cookie: 'wsha_sid', setCookie: true } } })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const first = await openWs(url);
  let setCookie = '';
  const second = await openWs(url, {}, undefined, (res) => { setCookie = String(res.headers['set-cookie']); });
  second.terminate();
  assert.match(setCookie, /^wsha_sid=[A-Za-z0-9_-]+; Path=\/; HttpOnly$/);
  const who = JSON.parse(await roundTrip(first, 'whoami'));
  first.terminate();
  assert.match(who.headers.cookie, /wsha_sid=/);
  const cookie = setCookie.split(';')[0];
  const ids = new Set<string>();
  for (let i = 0; i < 4; i++) { const ws = await openWs(url, { headers: { Cookie: cookie } }); ids.add(await whoami(ws)); ws.terminate(); }
  assert.equal(ids.size, 1);
});

test('sticky: every recorded session is released when its tunnel or HTTP request ends (so only open sessions are refreshed)', async (t) => {
  const bs = await backends(t, 2);
  const base = localClusterView();
  const open = new Map<string, number>();
  const view = {
    ...base,
    affinity: {
      lookup: base.affinity.lookup,
      record: (pool: string, key: string, backendId: string) => { open.set(key, (open.get(key) ?? 0) + 1); base.affinity.record(pool, key, backendId); },
      release: (_pool: string, key: string) => { open.set(key, (open.get(key) ?? 0) - 1); },
    },
  };
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: bs.map((b) => b.url), balance: 'sticky', pool: { sticky: { header: 'X-Session' } } })), view);
  t.after(() => node.destroy());
  const port = node.portOf('public');
  const a = await openWs(`ws://127.0.0.1:${port}/`, { headers: { 'X-Session': 'k1' } });
  const b = await openWs(`ws://127.0.0.1:${port}/`, { headers: { 'X-Session': 'k1' } });
  assert.equal(open.get('k1'), 2, 'two open tunnels of one session');
  a.close();
  await waitFor(() => open.get('k1') === 1, 'release of the first tunnel', 5000);
  b.terminate();
  await waitFor(() => open.get('k1') === 0, 'release of the second tunnel', 5000);
  const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'X-Session': 'k2' } });
  await res.text();
  await waitFor(() => open.get('k2') === 0, 'release after the HTTP request', 5000);
});
