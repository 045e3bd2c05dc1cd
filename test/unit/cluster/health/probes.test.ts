/**
 * Active checks against real servers on free ports: a WebSocket backend, one
 * that answers HTTP but refuses WebSocket handshakes, one that accepts TCP
 * and never answers, and a closed port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { startBackend } from '../../../harness/backend';
import { freePort } from '../../../harness/ports';
import { probe, probeTarget, statusRange } from '../../../../cluster/health/probes';
import type { HealthCheckConfig } from '../../../../shared/config/schema';

const check = (over: Partial<HealthCheckConfig>): HealthCheckConfig => ({ type: 'tcp', path: '/', expectStatus: '200-399', intervalMs: 200, timeoutMs: 300, rise: 2, fall: 2, passiveFail: 3, ...over });

async function hangingServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const held = new Set<Socket>();
  const srv = createServer((s) => { held.add(s); s.on('error', () => undefined); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(srv.address() as { port: number }).port}`, close: () => new Promise((r) => { for (const s of held) s.destroy(); srv.close(() => r()); }) };
}

test('statusRange parses a single status and a range', () => {
  assert.deepEqual(statusRange('200-399'), [200, 399]);
  assert.deepEqual(statusRange('204'), [204, 204]);
});

test('tcp, http and ws checks pass on a healthy WebSocket backend', async (t) => {
  const b = await startBackend({ id: 'ok' });
  t.after(() => b.close());
  for (const type of ['tcp', 'http', 'ws'] as const) {
    const r = await probe(probeTarget(b.url), check({ type }));
    assert.equal(r.ok, true, `${type}: ${r.reason}`);
    assert.ok(r.latencyMs >= 0 && r.latencyMs < 300);
  }
  const upgrades = b.seen.filter((s) => s.kind === 'ws').length;
  assert.equal(upgrades, 1, 'the ws check made a real handshake');
});

test('the ws check catches a backend that answers HTTP but refuses WebSocket handshakes', async (t) => {
  const b = await startBackend({ id: 'refuser', refuseUpgradeWith: 403 });
  t.after(() => b.close());
  assert.equal((await probe(probeTarget(b.url), check({ type: 'http' }))).ok, true, 'http check is fooled');
  const r = await probe(probeTarget(b.url), check({ type: 'ws' }));
  assert.equal(r.ok, false);
  assert.match(r.reason ?? '', /status 403/);
});

test('a hanging backend (accepts TCP, never answers) is caught by the timeout', async (t) => {
  const h = await hangingServer();
  t.after(() => h.close());
  for (const type of ['http', 'ws'] as const) {
    const started = Date.now();
    const r = await probe(probeTarget(h.url), check({ type, timeoutMs: 250 }));
    const took = Date.now() - started;
    assert.equal(r.ok, false);
    assert.match(r.reason ?? '', /timeout/);
    assert.ok(took >= 240 && took < 2000, `took ${took} ms`);
  }
  assert.equal((await probe(probeTarget(h.url), check({ type: 'tcp' }))).ok, true, 'tcp only sees the accept');
});

test('a closed port fails every check with the connect error', async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  for (const type of ['tcp', 'http', 'ws'] as const) {
    const r = await probe(probeTarget(url), check({ type }));
    assert.deepEqual([r.ok, r.reason], [false, 'ECONNREFUSED']);
  }
});

test('http check: a status outside the expected range fails', async (t) => {
  const srv = createHttpServer((_req, res) => { res.writeHead(503); res.end(); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  const r = await probe(probeTarget(url), check({ type: 'http' }));
  assert.deepEqual([r.ok, r.reason], [false, 'status 503']);
  assert.equal((await probe(probeTarget(url), check({ type: 'http', expectStatus: '500-599' }))).ok, true);
});
