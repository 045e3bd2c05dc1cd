/**
 * Redis as users run it, beyond one open server (Sentinel has its own file):
 * an ACL user with a password (the default user switched off, so nothing
 * works without the configured credentials), and TLS (rediss:// with the
 * server's certificate as CA; without it nothing is trusted).
 */
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { startRedis } from '../harness/redis';
import { freePort, waitFor } from '../harness/ports';
import { generateSelfSigned } from '../../shared/tls/self-signed';
import { runWsha } from '../harness/wsha-cli';
import { sharedConfig } from '../fixtures/shared-config';
import { spawnBackend } from '../fixtures/backend-child';
import { SharedState } from '../../cluster/shared-state';
import { silentLogger } from '../../shared/logger';
import { Metrics } from '../../shared/metrics';
import { teardown } from '../harness/teardown';

test('an ACL user: SharedState and the CLI work with the credentials; a wrong password never reads state and the CLI exits 3', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const admin = new Redis(redis.url);
  await admin.call('ACL', 'SETUSER', 'wsha', 'on', '>s3cret-pw', '~*', '&*', '+@all');
  await admin.call('ACL', 'SETUSER', 'default', 'off');
  admin.disconnect();
  const a = await spawnBackend('a');
  cleanup.after(() => a.kill());
  const backends = [{ id: 'a', url: a.url }];

  const good = new SharedState({ config: sharedConfig({ nodeId: 'n1', backends, redis: { url: redis.url, username: 'wsha', password: 's3cret-pw' } }), log: silentLogger(), metrics: new Metrics({ defaultMetrics: false }) });
  cleanup.after(() => good.stop());
  await good.start();
  await good.ready();
  await waitFor(() => good.health.verdict('app', 'a')?.state === 'up', 'a up', 5000);

  const bad = new SharedState({ config: sharedConfig({ nodeId: 'n2', backends, redis: { url: redis.url, username: 'wsha', password: 'wrong' } }), log: silentLogger(), metrics: new Metrics({ defaultMetrics: false }) });
  cleanup.after(() => bad.stop());
  await bad.start();
  const outcome = await Promise.race([bad.ready().then(() => 'ready'), new Promise((r) => setTimeout(() => r('waiting'), 1500))]);
  assert.equal(outcome, 'waiting', 'no shared state without valid credentials');
  await waitFor(() => bad.health.verdict('app', 'a')?.state === 'up', 'routes on its own checks meanwhile', 5000);

  const user = `redis://wsha:s3cret-pw@127.0.0.1:${redis.port}`;
  const ok = await runWsha(['backends', 'list', '--redis', user, '--cluster', 'shared-test', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual((JSON.parse(ok.stdout) as { backends: Array<{ backend: string }> }).backends.map((b) => b.backend), ['a']);
  const denied = await runWsha(['backends', 'list', '--redis', `redis://wsha:nope@127.0.0.1:${redis.port}`, '--cluster', 'shared-test']);
  assert.equal(denied.code, 3);
  assert.equal(denied.stderr.trim().split('\n').length, 1, 'one line');
  assert.match(denied.stderr, new RegExp(`127\\.0\\.0\\.1:${redis.port}`));
});

test('TLS: rediss:// with the CA file works for SharedState and the CLI; without the CA nothing is read', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const dir = mkdtempSync(join(tmpdir(), 'wsha-redis-tls-'));
  cleanup.after(() => rmSync(dir, { recursive: true, force: true }));
  const pem = generateSelfSigned({ commonName: '127.0.0.1', altNames: ['127.0.0.1'], days: 1 });
  const [cert, key] = [join(dir, 'redis.pem'), join(dir, 'redis-key.pem')];
  writeFileSync(cert, pem.certPem);
  writeFileSync(key, pem.keyPem);
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', cert, '--tls-key-file', key,
    '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  cleanup.after(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
  const url = `rediss://127.0.0.1:${port}`;
  await waitFor(async () => {
    const probe = new Redis(url, { tls: { ca: pem.certPem }, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    try { await probe.connect(); return (await probe.ping()) === 'PONG'; } finally { probe.disconnect(); }
  }, 'redis-server with TLS', 10000, 50);

  const a = await spawnBackend('a');
  cleanup.after(() => a.kill());
  const backends = [{ id: 'a', url: a.url }];
  const good = new SharedState({ config: sharedConfig({ nodeId: 'n1', backends, redis: { url, tls: { ca: cert } } }), log: silentLogger(), metrics: new Metrics({ defaultMetrics: false }) });
  cleanup.after(() => good.stop());
  await good.start();
  await good.ready();
  await waitFor(() => good.health.verdict('app', 'a')?.state === 'up', 'a up', 5000);

  const untrusted = new SharedState({ config: sharedConfig({ nodeId: 'n2', backends, redis: { url } }), log: silentLogger(), metrics: new Metrics({ defaultMetrics: false }) });
  cleanup.after(() => untrusted.stop());
  await untrusted.start();
  const outcome = await Promise.race([untrusted.ready().then(() => 'ready'), new Promise((r) => setTimeout(() => r('waiting'), 1500))]);
  assert.equal(outcome, 'waiting', 'a server certificate that is not trusted is never used');

  const configPath = join(dir, 'node.yaml');
  writeFileSync(configPath, stringify({
    cluster: { name: 'shared-test', redis: { url, tls: { ca: cert } } }, node: { id: 'cli' },
    listeners: [{ name: 'public', on: '127.0.0.1', port: 0 }], routes: [{ pool: 'app' }], pools: { app: { backends } },
  }));
  await waitFor(async () => (await runWsha(['backends', 'list', '--config', configPath, '--json'])).stdout.includes('"verdict": "up"'), 'CLI over TLS lists a up', 10000, 200);
});
