/** The command runner of the VIP drivers: line-by-line logging, exit codes, spawn errors, timeouts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describeFailure, runCommand, succeeded } from '../../../../cluster/vip/drivers/commands';

/** A real pino logger whose JSON lines land in an array. */
function captureLogger() {
  const lines: Array<{ level: number; msg: string; stream?: string }> = [];
  const sink = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); cb(); } });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

test('stdout lines are logged at info and stderr lines at warn, one entry per line', async () => {
  const { logger, lines } = captureLogger();
  const r = await runCommand('/bin/sh', ['-c', 'printf "one\\ntwo\\n"; printf "bad\\n" >&2; printf "tail-without-newline"'], { timeoutMs: 5000, logger });
  assert.ok(succeeded(r));
  assert.equal(r.code, 0);
  assert.deepEqual(lines.filter((l) => l.stream === 'stdout').map((l) => [l.level, l.msg]), [[30, 'one'], [30, 'two'], [30, 'tail-without-newline']]);
  assert.deepEqual(lines.filter((l) => l.stream === 'stderr').map((l) => [l.level, l.msg]), [[40, 'bad']]);
});

test('quiet commands log stdout at debug', async () => {
  const { logger, lines } = captureLogger();
  await runCommand('/bin/echo', ['hi'], { timeoutMs: 5000, logger, quiet: true });
  assert.deepEqual(lines.filter((l) => l.stream === 'stdout').map((l) => l.level), [20]);
});

test('a non-zero exit and a missing program are failures with a readable reason', async () => {
  const { logger } = captureLogger();
  const r = await runCommand('/bin/sh', ['-c', 'echo "no such device" >&2; exit 4'], { timeoutMs: 5000, logger });
  assert.equal(succeeded(r), false);
  assert.equal(describeFailure(r), 'exit code 4: no such device');
  const missing = await runCommand('/nonexistent/wsha-tool', [], { timeoutMs: 5000, logger });
  assert.equal(succeeded(missing), false);
  assert.match(describeFailure(missing), /could not start: .*ENOENT/);
});

test('the environment is passed on top of the process environment', async () => {
  const { logger } = captureLogger();
  const r = await runCommand('/bin/sh', ['-c', 'echo "$WSHA_VIP:${PATH:+path}"'], { timeoutMs: 5000, logger, env: { WSHA_VIP: 'web' } });
  assert.equal(r.stdout.trim(), 'web:path');
});

test('a script that exits while its background child holds stdout settles soon, with its exit code', async () => {
  const { logger } = captureLogger();
  const t0 = Date.now();
  const r = await runCommand('/bin/sh', ['-c', 'sleep 3 & echo "started $!"'], { timeoutMs: 10_000, logger });
  assert.ok(succeeded(r));
  assert.ok(Date.now() - t0 < 2500, `settled after ${Date.now() - t0} ms`);
  // The background child is stopped by its PID once checked: its end of the pipe kept this test file running 3 s.
  const pid = Number(/started (\d+)/.exec(r.stdout)?.[1]);
  if (pid > 0) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ } }
});

test('timeout kills the command and says so', async () => {
  const { logger, lines } = captureLogger();
  const r = await runCommand('/bin/sh', ['-c', 'sleep 20'], { timeoutMs: 200, logger });
  assert.equal(r.timedOut, true);
  assert.equal(succeeded(r), false);
  assert.match(describeFailure(r), /^timed out after \d+ ms$/);
  assert.ok(lines.some((l) => l.msg === 'command timed out, killing its process group'));
});
