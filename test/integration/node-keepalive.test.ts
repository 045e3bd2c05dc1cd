/**
 * limits.tcpKeepAliveMs as the kernel sees it: `ss -o` shows the keepalive
 * timer of both proxy sockets of a tunnel (the client's and the backend's),
 * armed within the delay plus its quarter of jitter; with 0 neither socket
 * has one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type WebSocket from 'ws';
import { startBackend } from '../harness/backend';
import { startProxy, openWs, roundTrip } from '../harness/proxy';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';
import { sleep } from '../harness/ports';

/** Keepalive timers (seconds left; 'retransmit' while data is unacknowledged) of established sockets, by "local remote" pair. */
function keepaliveTimers(): Map<string, number | null | 'retransmit'> {
  const out = execFileSync('ss', ['-tnoH', 'state', 'established'], { encoding: 'utf8' });
  const timers = new Map<string, number | null | 'retransmit'>();
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const m = /timer:\(keepalive,(?:(\d+)min|([\d.]+)sec|([\d.]+)ms)/.exec(line);
    const left = m ? (m[1] ? Number(m[1]) * 60 : m[2] ? Number(m[2]) : Number(m[3]) / 1000) : null;
    timers.set(`${f[2]} ${f[3]}`, line.includes('timer:(on,') ? 'retransmit' : left);
  }
  return timers;
}

/** The proxy's two sockets of one tunnel: the one the client reached and the one to the backend. */
function tunnelTimers(proxyPort: number, backendPort: number): { client: Array<number | null>; backend: Array<number | null>; retransmitting: number } {
  const client: Array<number | null> = [];
  const backend: Array<number | null> = [];
  let retransmitting = 0;
  for (const [pair, left] of keepaliveTimers()) {
    const [local, remote] = pair.split(' ');
    const side = local!.endsWith(`:${proxyPort}`) ? client : remote!.endsWith(`:${backendPort}`) && !local!.endsWith(`:${backendPort}`) ? backend : null;
    if (!side) continue;
    if (left === 'retransmit') retransmitting++;
    else side.push(left);
  }
  return { client, backend, retransmitting };
}

async function tunnels(t: import('node:test').TestContext, keepAliveMs: number, count: number) {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], limits: { tcpKeepAliveMs: keepAliveMs } })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const held: WebSocket[] = [];
  t.after(() => held.forEach((w) => w.terminate()));
  for (let i = 0; i < count; i++) held.push(await openWs(url));
  for (const w of held) assert.equal(await roundTrip(w, 'x'), 'x');
  // ss shows one timer per socket: while an echo is still unacknowledged, the retransmit timer. Read again until none is.
  const read = () => tunnelTimers(node.portOf('public')!, Number(new URL(b.url).port));
  let timers = read();
  for (let i = 0; i < 30 && timers.retransmitting > 0; i++) { await sleep(100); timers = read(); }
  return timers;
}

test('both proxy sockets of a tunnel probe after limits.tcpKeepAliveMs, plus at most a quarter', async (t) => {
  const { client, backend } = await tunnels(t, 20_000, 8);
  assert.equal(client.length, 8, `client-side sockets: ${client}`);
  assert.equal(backend.length, 8, `backend-side sockets: ${backend}`);
  for (const left of [...client, ...backend]) {
    assert.ok(left !== null, 'a keepalive timer is armed');
    // Armed at most a few seconds ago (a loaded machine), for 20 to 25 s.
    assert.ok(left > 14 && left <= 25.1, `keepalive due in ${left} s`);
  }
});

test('limits.tcpKeepAliveMs 0: no keepalive timer on either proxy socket', async (t) => {
  const { client, backend } = await tunnels(t, 0, 3);
  assert.equal(client.length, 3);
  assert.equal(backend.length, 3);
  assert.deepEqual([...client, ...backend], [null, null, null, null, null, null]);
});
