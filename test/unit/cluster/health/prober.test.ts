/**
 * The prober on a real schedule against a real HTTP backend whose answer
 * the test flips: a flapping backend obeys rise/fall, and passive failures
 * mark a backend down at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { HealthProber, jittered, type ProbeReport } from '../../../../cluster/health/prober';
import { systemClock } from '../../../../shared/clock';
import { silentLogger } from '../../../../shared/logger';
import { waitFor } from '../../../harness/ports';
import type { PoolConfig } from '../../../../shared/config/schema';

function pool(url: string, over: Partial<PoolConfig['healthCheck']> = {}): Record<string, PoolConfig> {
  return { app: { balance: 'round-robin', proxyProtocol: false, onBackendDown: 'keep', slowStartMs: 0, backends: [{ id: 'a', url, weight: 1 }], healthCheck: { type: 'http', path: '/health', expectStatus: '200-399', intervalMs: 60, timeoutMs: 50, rise: 3, fall: 2, passiveFail: 2, ...over } } };
}

test('jitter stays within 10 % of the interval', () => {
  assert.equal(jittered(1000, () => 0), 900);
  assert.equal(jittered(1000, () => 0.999999), 1100);
});

test('a flapping backend obeys rise/fall on the real schedule', async (t) => {
  let healthy = true;
  let checks = 0;
  const srv = createServer((_req, res) => { checks++; res.writeHead(healthy ? 200 : 500); res.end(); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  const reports: ProbeReport[] = [];
  const p = new HealthProber('n1', (r) => reports.push(r), { clock: systemClock, log: silentLogger() });
  t.after(() => p.stop());
  p.setPools(pool(url));
  p.start();
  await waitFor(() => p.state('app', 'a') === 'up', 'first check up', 5000);
  // Flap: answer bad, good, bad, good ... one check each: never two bad in a row.
  const flapUntil = checks + 8;
  let last = checks;
  await waitFor(() => {
    if (checks !== last) { last = checks; healthy = checks % 2 === 0; }
    assert.equal(p.state('app', 'a'), 'up', 'one bad check at a time never reaches fall=2');
    return checks >= flapUntil;
  }, 'flapping checks', 10000, 2);
  healthy = false;
  await waitFor(() => p.state('app', 'a') === 'down', 'down after fall=2', 5000);
  const downAt = checks;
  healthy = true;
  await waitFor(() => p.state('app', 'a') === 'up', 'up after rise=3', 5000);
  assert.ok(checks - downAt >= 3, `came back after ${checks - downAt} checks, rise is 3`);
  const changes = reports.filter((r) => r.changed).map((r) => r.state);
  assert.deepEqual(changes, ['up', 'down', 'up']);
  assert.ok(reports.every((r) => r.observation.nodeId === 'n1'));
});

test('forceDown (passive failures) reports down at once and needs rise to return', async (t) => {
  const srv = createServer((_req, res) => { res.writeHead(200); res.end(); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const reports: ProbeReport[] = [];
  const p = new HealthProber('n1', (r) => reports.push(r), { clock: systemClock, log: silentLogger() });
  t.after(() => p.stop());
  p.setPools(pool(`http://127.0.0.1:${(srv.address() as { port: number }).port}`, { intervalMs: 100, rise: 2 }));
  p.start();
  await waitFor(() => p.state('app', 'a') === 'up', 'up', 5000);
  p.forceDown('app', 'a', '2 failed connections from live traffic');
  const last = reports.at(-1)!;
  assert.deepEqual([last.state, last.changed, last.observation.up, last.observation.reason], ['down', true, false, '2 failed connections from live traffic']);
  await waitFor(() => p.state('app', 'a') === 'up', 'back up after rise', 5000);
});

test('setPools drops removed backends and probes added ones', async (t) => {
  const srv = createServer((_req, res) => { res.writeHead(200); res.end(); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  const p = new HealthProber('n1', () => undefined, { clock: systemClock, log: silentLogger() });
  t.after(() => p.stop());
  const base = pool(url);
  p.setPools(base);
  p.start();
  await waitFor(() => p.state('app', 'a') === 'up', 'a up', 5000);
  p.setPools({ app: { ...base.app, backends: [{ id: 'b', url, weight: 1 }] } });
  assert.equal(p.state('app', 'a'), undefined);
  await waitFor(() => p.state('app', 'b') === 'up', 'b up', 5000);
});
