/**
 * Issue 10: per-route timeouts. A route to a hung backend with a tight
 * responseHeadTimeoutMs answers 504 at that time, for plain HTTP and for
 * the upgrade, while the node-wide limits are long; a route's
 * idleTimeoutMs closes its idle tunnels and leaves other routes' alone;
 * both change on reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { startBackend } from '../harness/backend';
import { startProxy, openWs, roundTrip, closeCode } from '../harness/proxy';
import { upgradeRequest } from '../harness/raw-client';
import { converse, responses, statuses } from '../harness/hostile';
import { waitFor } from '../harness/ports';
import { nodeConfig, rawNodeConfig, type RawConfig } from '../fixtures/node-config';

/** A backend that accepts and never says a word. */
async function hungBackend(t: { after(fn: () => unknown): void }): Promise<string> {
  const held: Socket[] = [];
  const srv = createServer((s) => { held.push(s); s.on('error', () => {}); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.after(() => { held.forEach((s) => s.destroy()); srv.close(); });
  return `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
}

function config(hungUrl: string, goodUrl: string, headMs: number, idleMs?: number): RawConfig {
  const raw = rawNodeConfig({ port: 0, backendUrls: [goodUrl], limits: { requestTimeoutMs: 20000, backendConnectTimeoutMs: 8000 } });
  raw.routes = [
    { host: '*', path: '/hung', pool: 'hung', responseHeadTimeoutMs: headMs },
    { host: '*', path: '/quiet', pool: 'app', ...(idleMs === undefined ? {} : { idleTimeoutMs: idleMs }) },
    { host: '*', path: '/', pool: 'app' },
  ];
  raw.pools.hung = { backends: [{ id: 'hung-1', url: hungUrl }] };
  return raw;
}

async function timed(port: number, data: string): Promise<{ status: number; ms: number }> {
  const r = await converse(port, data, { until: responses(1), timeoutMs: 10000 });
  return { status: statuses(r.response)[0] ?? 0, ms: r.elapsedMs };
}

test('a hung backend on a route with a tight timeout gets 504 at that timeout, for HTTP and upgrades; reload changes it', async (t) => {
  const hung = await hungBackend(t);
  const good = await startBackend({ id: 'good' });
  t.after(() => good.close());
  const node = await startProxy(nodeConfig(config(hung, good.url, 300)));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  for (const req of ['GET /hung/x HTTP/1.1\r\nHost: a\r\n\r\n', upgradeRequest('/hung/ws')]) {
    const r = await timed(port, req);
    assert.equal(r.status, 504, req);
    assert.ok(r.ms >= 250 && r.ms < 2000, `504 after ${r.ms} ms`);
  }
  // The other routes still use the node's limits and are served.
  assert.equal((await timed(port, 'GET /other HTTP/1.1\r\nHost: a\r\n\r\n')).status, 200);
  node.reload(nodeConfig(config(hung, good.url, 1200)));
  const later = await timed(port, 'GET /hung/y HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.equal(later.status, 504);
  assert.ok(later.ms >= 1100, `after reload: 504 after ${later.ms} ms`);
  await waitFor(() => node.rt.registry.size === 0 && node.rt.pools.get('hung')!.backends[0].inFlight === 0, 'nothing left in flight');
});

test("a route's idle timeout closes its idle tunnels with 1001 and leaves other routes' tunnels open", async (t) => {
  const good = await startBackend({ id: 'good' });
  t.after(() => good.close());
  const hung = await hungBackend(t);
  const node = await startProxy(nodeConfig(config(hung, good.url, 300, 400)));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  const quiet = await openWs(`ws://127.0.0.1:${port}/quiet`);
  const other = await openWs(`ws://127.0.0.1:${port}/chat`);
  t.after(() => { quiet.terminate(); other.terminate(); });
  const started = Date.now();
  assert.equal(await closeCode(quiet, 5000), 1001);
  assert.ok(Date.now() - started < 2500);
  assert.equal(await roundTrip(other, 'still here'), 'still here');
});
