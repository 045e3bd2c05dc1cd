/**
 * `wsha backends` and `wsha sessions` as an operator runs them (the built
 * CLI as a child process) against a real redis-server: exit codes, one-line
 * errors, JSON output, help with examples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { startRedis } from '../harness/redis';
import { freePort } from '../harness/ports';
import { runWsha } from '../harness/wsha-cli';
import { RedisKeys } from '../../shared/redis/keys';

test('backends and sessions: exit codes, errors and JSON', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const r = new Redis(redis.url);
  t.after(() => r.disconnect());
  const keys = new RedisKeys('cli');
  // What running nodes leave behind: a verdict table and a session record.
  await r.hset(keys.verdict('app'), 'a', 'up', 'b', 'down');
  await r.set(keys.session('app', 'user-1'), 'a', 'PX', 60_000);
  const target = ['--redis', redis.url, '--cluster', 'cli'];

  const add = await runWsha(['backends', 'add', 'app', 'c', 'ws://127.0.0.1:7001', ...target, '--json']);
  assert.equal(add.code, 0, add.stderr);
  assert.deepEqual(JSON.parse(add.stdout).op, 'add');
  const dup = await runWsha(['backends', 'add', 'app', 'c', 'ws://127.0.0.1:7002', ...target]);
  assert.deepEqual([dup.code, /WSHA_ERR_POOL_CHANGE/.test(dup.stderr)], [1, true]);
  const bad = await runWsha(['backends', 'add', 'app', 'd', 'ftp://x', ...target]);
  assert.deepEqual([bad.code, /WSHA_ERR_CONFIG/.test(bad.stderr)], [2, true]);
  const nopool = await runWsha(['backends', 'disable', 'ghost', 'a', ...target]);
  assert.deepEqual([nopool.code, /pool ghost not found/.test(nopool.stderr)], [4, true]);
  const noback = await runWsha(['backends', 'remove', 'app', 'zz', ...target]);
  assert.equal(noback.code, 4);
  assert.equal((await runWsha(['backends', 'disable', 'app', 'b', ...target])).code, 0);
  assert.equal((await runWsha(['backends', 'disable', 'app', 'b', ...target])).code, 1, 'already disabled');

  const list = await runWsha(['backends', 'list', 'app', ...target, '--json']);
  assert.equal(list.code, 0, list.stderr);
  const doc = JSON.parse(list.stdout) as { version: number; backends: Array<{ backend: string; state: string; verdict: string; weight: number | null }> };
  assert.equal(doc.version, 2);
  assert.deepEqual(doc.backends.map((b) => [b.backend, b.state, b.verdict, b.weight]).sort(), [['a', 'enabled', 'up', null], ['b', 'disabled', 'down', 0], ['c', 'enabled', 'unknown', 1]]);
  // wsha status shows the live changes in force: c added, b disabled (a verdict-table backend otherwise as configured).
  const status = await runWsha(['status', ...target, '--json']);
  const app = (JSON.parse(status.stdout) as { pools: Array<{ name: string; backends: Array<{ id: string; live: string | null }> }> }).pools.find((p) => p.name === 'app')!;
  assert.deepEqual(app.backends.map((b) => [b.id, b.live]), [['a', null], ['b', 'disabled'], ['c', 'added']]);
  const text = await runWsha(['backends', 'list', ...target]);
  assert.match(text.stdout, /BACKEND/);
  assert.match(text.stdout, /version 2/);

  const sessions = await runWsha(['sessions', '--pool', 'app', ...target, '--json']);
  assert.deepEqual(JSON.parse(sessions.stdout), [{ pool: 'app', total: 1, byBackend: { a: 1 }, truncated: false }]);
  const listed = await runWsha(['sessions', '--list', ...target, '--json']);
  assert.equal(JSON.parse(listed.stdout).sessions[0].key, 'user-1');
  assert.equal((await runWsha(['sessions', '--limit', 'x', ...target])).code, 2);

  const port = await freePort();
  for (const args of [['backends', 'list'], ['backends', 'add', 'app', 'e', 'ws://127.0.0.1:1'], ['sessions']]) {
    const down = await runWsha([...args, '--redis', `redis://127.0.0.1:${port}`, '--cluster', 'cli']);
    assert.equal(down.code, 3, `${args.join(' ')}: ${down.stderr}`);
    assert.equal(down.stderr.trim().split('\n').length, 1);
    assert.match(down.stderr, new RegExp(`cannot reach Redis at 127\\.0\\.0\\.1:${port}`));
  }
  for (const args of [['backends', 'add', '--help'], ['backends', 'list', '--help'], ['sessions', '--help']]) {
    const help = await runWsha(args);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Example/);
    assert.match(help.stdout, /Exit codes/);
  }
});
