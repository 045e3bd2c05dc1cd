/**
 * Redis as users run it, beyond one open server (Sentinel has its own file):
 * an ACL user with a password. The default user is switched off, so
 * nothing works without the configured credentials.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { startRedis } from '../harness/redis';
import { waitFor } from '../harness/ports';
import { runWsha } from '../harness/wsha-cli';
import { sharedConfig } from '../fixtures/shared-config';
import { spawnBackend } from '../fixtures/backend-child';
import { SharedState } from '../../cluster/shared-state';
import { silentLogger } from '../../shared/logger';
import { Metrics } from '../../shared/metrics';

test('an ACL user: SharedState and the CLI work with the credentials; a wrong password never reads state and the CLI exits 3', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const admin = new Redis(redis.url);
  await admin.call('ACL', 'SETUSER', 'wsha', 'on', '>s3cret-pw', '~*', '&*', '+@all');
  await admin.call('ACL', 'SETUSER', 'default', 'off');
  admin.disconnect();
  const a = await spawnBackend('a');
  t.after(() => a.kill());
  const backends = [{ id: 'a', url: a.url }];

  const good = new SharedState({ config: sharedConfig({ nodeId: 'n1', backends, redis: { url: redis.url, username: 'wsha', password: 's3cret-pw' } }), log: silentLogger(), metrics: new Metrics({ defaultMetrics: false }) });
  t.after(() => good.stop());
  await good.start();
  await good.ready();
  await waitFor(() => good.health.verdict('app', 'a')?.state === 'up', 'a up', 5000);

  const bad = new SharedState({ config: sharedConfig({ nodeId: 'n2', backends, redis: { url: redis.url, username: 'wsha', password: 'wrong' } }), log: silentLogger(), metrics: new Metrics({ defaultMetrics: false }) });
  t.after(() => bad.stop());
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
