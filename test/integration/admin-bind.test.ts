/**
 * A node whose admin address is taken does not run half-started: it exits
 * with code 1 and names the address on stderr.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { parse } from 'yaml';
import { demoNodeConfig } from '../../cluster/demo/demo-config';
import { startRedis } from '../harness/redis';
import { freePort } from '../harness/ports';
import { spawnNodeProcess } from '../harness/node-process';

test('admin address in use: the node exits 1 naming it', { timeout: 60_000 }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const squatter = createServer();
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  t.after(() => squatter.close());
  const adminPort = (squatter.address() as { port: number }).port;
  const vipAddress = `127.0.0.${10 + Math.floor(Math.random() * 240)}`;
  const yaml = demoNodeConfig({
    cluster: 'adminbind', redisUrl: redis.url, token: 'admin-bind-token',
    vip: { name: 'front', address: vipAddress, port: await freePort(vipAddress) },
    backends: [{ id: 'echo-1', port: await freePort() }],
  }, { id: 'node-x', priority: 100, adminPort });
  const n = spawnNodeProcess(parse(yaml));
  t.after(() => n.cleanup());
  const exit = await Promise.race([n.exited(), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000).unref())]);
  assert.notEqual(exit, 'timeout', `the node exited: ${n.stderr()} ${JSON.stringify(n.logs.slice(-5))}`);
  assert.deepEqual(exit, { code: 1, signal: null });
  assert.match(n.stderr(), new RegExp(`cannot start the admin API on 127\\.0\\.0\\.1:${adminPort}`));
});
