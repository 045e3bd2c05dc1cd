/**
 * CLI conventions without a cluster: the unreachable-Redis message (one
 * line naming the address, exit 3, fast), missing target (exit 2), and
 * --help with an example on every subcommand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { freePort } from '../harness/ports';
import { runWsha } from '../harness/wsha-cli';

test('unreachable Redis: one line naming the address, exit 3, within a short timeout', async () => {
  const port = await freePort();
  for (const cmd of [['status'], ['vips', '--json'], ['failover', '--vip', 'front'], ['drain', 'node-a']]) {
    const started = Date.now();
    const r = await runWsha([...cmd, '--redis', `redis://127.0.0.1:${port}`, '--cluster', 'x']);
    const took = Date.now() - started;
    assert.equal(r.code, 3, `${cmd.join(' ')} exits 3: ${r.stderr}`);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    assert.ok(lines[0].includes(`127.0.0.1:${port}`), lines[0]);
    assert.match(lines[0], /WSHA_ERR_REDIS_UNAVAILABLE/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(took < 8000, `${cmd.join(' ')} took ${took} ms`);
  }
});

test('a Redis that accepts but never answers: the same one line after the connect timeout', async (t) => {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => { sockets.add(s); s.on('error', () => {}); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => { for (const s of sockets) s.destroy(); silent.close(); });
  const port = (silent.address() as { port: number }).port;
  const started = Date.now();
  const r = await runWsha(['status', '--redis', `redis://127.0.0.1:${port}`, '--cluster', 'x', '--timeout', '700']);
  const took = Date.now() - started;
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`cannot reach Redis at 127\\.0\\.0\\.1:${port}`));
  assert.ok(took >= 700 && took < 6000, `gave up after ${took} ms`);
});

test('no target: a clear message and exit 2', async () => {
  const env = { ...process.env };
  delete env.WSHA_CONFIG; delete env.WSHA_REDIS_URL; delete env.WSHA_CLUSTER;
  const r = await runWsha(['status'], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--config FILE, or --redis URL --cluster NAME/);
});

test('a config file that does not exist: exit 2 with the file named', async () => {
  const r = await runWsha(['status', '--config', 'no/such/file.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no\/such\/file\.yaml/);
});

test('every operator subcommand has --help with an example and exit codes', async () => {
  const cmds = [['status'], ['nodes'], ['vips'], ['failover'], ['drain'], ['undrain'], ['demo']];
  // Each `--help` runs at the same time.
  const helps = await Promise.all(cmds.map((cmd) => runWsha([...cmd, '--help'])));
  for (const [i, cmd] of cmds.entries()) {
    const r = helps[i]!;
    assert.equal(r.code, 0, cmd.join(' '));
    assert.match(r.stdout, /Example/, `${cmd.join(' ')} --help has an example`);
    assert.match(r.stdout, /Exit codes/, `${cmd.join(' ')} --help documents exit codes`);
  }
});
