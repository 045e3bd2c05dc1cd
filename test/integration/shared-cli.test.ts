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
  const r = new Redis(redis.url);
  // The client goes first: disconnected after its server stopped, ioredis waits 2 s for a close that never comes.
  t.after(async () => { r.disconnect(); await redis.stop(); });
  const keys = new RedisKeys('cli');
  // What running nodes leave behind: a verdict table and a session record.
  await r.hset(keys.verdict('app'), 'a', 'up', 'b', 'down');
  await r.set(keys.session('app', 'user-1'), 'a', 'PX', 60_000);
  const target = ['--redis', redis.url, '--cluster', 'cli'];

  // Independent CLI runs go at the same time: the pool changes in their order (each failed one reads only,
  // so those run together), then the reads of the result together; Redis down and the help texts alongside.
  const changesAndReads = async () => {
    const add = await runWsha(['backends', 'add', 'app', 'c', 'ws://127.0.0.1:7001', ...target, '--json']);
    assert.equal(add.code, 0, add.stderr);
    assert.deepEqual(JSON.parse(add.stdout).op, 'add');
    const [dup, bad, nopool, noback] = await Promise.all([
      runWsha(['backends', 'add', 'app', 'c', 'ws://127.0.0.1:7002', ...target]),
      runWsha(['backends', 'add', 'app', 'd', 'ftp://x', ...target]),
      runWsha(['backends', 'disable', 'ghost', 'a', ...target]),
      runWsha(['backends', 'remove', 'app', 'zz', ...target]),
    ]);
    assert.deepEqual([dup.code, /WSHA_ERR_POOL_CHANGE/.test(dup.stderr)], [1, true]);
    assert.deepEqual([bad.code, /WSHA_ERR_CONFIG/.test(bad.stderr)], [2, true]);
    assert.deepEqual([nopool.code, /pool ghost not found/.test(nopool.stderr)], [4, true]);
    assert.equal(noback.code, 4);
    assert.equal((await runWsha(['backends', 'disable', 'app', 'b', ...target])).code, 0);
    assert.equal((await runWsha(['backends', 'disable', 'app', 'b', ...target])).code, 1, 'already disabled');

    const [list, status, text, sessions, listed, limit] = await Promise.all([
      runWsha(['backends', 'list', 'app', ...target, '--json']),
      runWsha(['status', ...target, '--json']),
      runWsha(['backends', 'list', ...target]),
      runWsha(['sessions', '--pool', 'app', ...target, '--json']),
      runWsha(['sessions', '--list', ...target, '--json']),
      runWsha(['sessions', '--limit', 'x', ...target]),
    ]);
    assert.equal(list.code, 0, list.stderr);
    const doc = JSON.parse(list.stdout) as { version: number; backends: Array<{ backend: string; state: string; verdict: string; weight: number | null }> };
    assert.equal(doc.version, 2);
    assert.deepEqual(doc.backends.map((b) => [b.backend, b.state, b.verdict, b.weight]).sort(), [['a', 'enabled', 'up', null], ['b', 'disabled', 'down', 0], ['c', 'enabled', 'unknown', 1]]);
    // wsha status shows the live changes in force: c added, b disabled (a verdict-table backend otherwise as configured).
    const app = (JSON.parse(status.stdout) as { pools: Array<{ name: string; backends: Array<{ id: string; live: string | null }> }> }).pools.find((p) => p.name === 'app')!;
    assert.deepEqual(app.backends.map((b) => [b.id, b.live]), [['a', null], ['b', 'disabled'], ['c', 'added']]);
    assert.match(text.stdout, /BACKEND/);
    assert.match(text.stdout, /version 2/);

    assert.deepEqual(JSON.parse(sessions.stdout), [{ pool: 'app', total: 1, byBackend: { a: 1 }, truncated: false }]);
    assert.equal(JSON.parse(listed.stdout).sessions[0].key, 'user-1');
    assert.equal(limit.code, 2);
  };

  const redisDown = async () => {
    const port = await freePort();
    const runs = [['backends', 'list'], ['backends', 'add', 'app', 'e', 'ws://127.0.0.1:1'], ['sessions']];
    const results = await Promise.all(runs.map((args) => runWsha([...args, '--redis', `redis://127.0.0.1:${port}`, '--cluster', 'cli'])));
    runs.forEach((args, i) => {
      const down = results[i]!;
      assert.equal(down.code, 3, `${args.join(' ')}: ${down.stderr}`);
      assert.equal(down.stderr.trim().split('\n').length, 1);
      assert.match(down.stderr, new RegExp(`cannot reach Redis at 127\\.0\\.0\\.1:${port}`));
    });
  };

  const helps = async () => {
    for (const help of await Promise.all([['backends', 'add', '--help'], ['backends', 'list', '--help'], ['sessions', '--help']].map((args) => runWsha(args)))) {
      assert.equal(help.code, 0);
      assert.match(help.stdout, /Example/);
      assert.match(help.stdout, /Exit codes/);
    }
  };

  await Promise.all([changesAndReads(), redisDown(), helps()]);
});
