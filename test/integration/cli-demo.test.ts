/**
 * `wsha demo --failover --duration N` as an operator runs it: it comes up,
 * the client talks through the VIP, the owner is SIGKILLed and the standby
 * takes over, it stops by itself within a time bound, and every process it
 * reported (by PID) is gone afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWsha, WSHA_MAIN } from '../harness/wsha-cli';

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

test('demo --failover --duration runs to completion and leaves no process behind', { timeout: 90_000 }, async () => {
  const started = Date.now();
  const r = await runWsha(['demo', '--failover', '--failover-after', '2000', '--duration', '8'], { timeoutMs: 60_000 });
  const took = Date.now() - started;
  assert.equal(r.code, 0, `demo exit code: ${r.stdout}\n${r.stderr}`);
  assert.ok(took < 40_000, `demo took ${took} ms`);
  const out = r.stdout;
  const pidsLine = out.split('\n').find((l) => l.trim().startsWith('pids'));
  assert.ok(pidsLine, `demo printed its PIDs:\n${out}`);
  const pids = new Map([...pidsLine.matchAll(/([\w-]+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
  assert.deepEqual([...pids.keys()].sort(), ['echo-1', 'echo-2', 'node-a', 'node-b', 'redis-server']);

  assert.match(out, /live page +http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]+/, 'a link that signs in through the URL fragment');
  const first = out.match(/owner (node-[ab]), epoch (\d+)/);
  assert.ok(first, 'demo printed the first owner');
  assert.match(out, new RegExp(`killing the VIP owner ${first[1]} \\(pid ${pids.get(first[1])}\\) with SIGKILL`));
  const survivor = first[1] === 'node-a' ? 'node-b' : 'node-a';
  const takeover = out.match(new RegExp(`owner is now ${survivor} \\(epoch (\\d+)\\) (\\d+) ms after the kill`));
  assert.ok(takeover, `takeover shown:\n${out}`);
  assert.ok(Number(takeover[1]) > Number(first[2]), 'epoch went up');
  assert.match(out, /client: reconnected through the VIP after \d+ ms/);
  const stats = out.match(/client: sent (\d+), answered (\d+)/);
  assert.ok(stats && Number(stats[2]) >= 3, 'messages answered through the VIP');
  assert.match(out, /stopped 5 processes/);
  for (const [name, pid] of pids) assert.equal(alive(pid), false, `${name} (pid ${pid}) is gone`);
});

test('demo SIGINT stops everything it started', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [WSHA_MAIN, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  try {
    const deadline = Date.now() + 30_000;
    while (!/client: <- \[echo-\d\] message 1/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /message 1/, `demo came up:\n${out}`);
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref())]);
    assert.equal(code, 0, `exit after SIGINT:\n${out}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  const pids = [...(out.split('\n').find((l) => l.trim().startsWith('pids')) ?? '').matchAll(/=(\d+)/g)].map((m) => Number(m[1]));
  assert.equal(pids.length, 5);
  for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} is gone`);
  assert.match(out, /SIGINT received, stopping/);
});

test('demo without redis-server on PATH says what is missing and exits 1', { timeout: 30_000 }, async () => {
  // An empty folder as PATH: node itself is run by absolute path, redis-server cannot be found.
  const empty = mkdtempSync(join(tmpdir(), 'wsha-nopath-'));
  const demoDirs = () => new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('wsha-demo-')));
  const before = demoDirs();
  const r = await runWsha(['demo', '--duration', '2'], { env: { ...process.env, PATH: empty }, timeoutMs: 20_000 });
  // Nothing was written to its folder, so none is left behind.
  assert.deepEqual([...demoDirs()].filter((d) => !before.has(d)), [], r.stdout);
  rmSync(empty, { recursive: true, force: true });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /could not start redis-server: is redis-server installed\?/);
  assert.match(r.stdout, /stopped 0 processes/);
});
