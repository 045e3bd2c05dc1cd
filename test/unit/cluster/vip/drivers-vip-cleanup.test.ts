/** `wsha vip cleanup`: which VIPs it touches, and its CLI behaviour on a config without linux VIPs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cleanupTargets } from '../../../../cluster/cli/commands/vip-cleanup';
import type { VipConfig } from '../../../../shared/config/schema';

const base = { preempt: false, execTimeoutMs: 1000, garpCount: 3, garpIntervalMs: 200 };
const vips: VipConfig[] = [
  { ...base, name: 'lan', driver: 'linux', address: '10.0.0.100', interface: 'eth0' },
  { ...base, name: 'cloud', driver: 'exec', address: '203.0.113.7', up: '/bin/true', down: '/bin/true' },
  { ...base, name: 'local', driver: 'bind', address: '127.0.0.50' },
];

test('linux VIPs by default, exec only with --exec, never bind; --vip narrows', () => {
  assert.deepEqual(cleanupTargets(vips, {}).map((v) => v.name), ['lan']);
  assert.deepEqual(cleanupTargets(vips, { exec: true }).map((v) => v.name), ['lan', 'cloud']);
  assert.deepEqual(cleanupTargets(vips, { exec: true, vip: 'cloud' }).map((v) => v.name), ['cloud']);
  assert.deepEqual(cleanupTargets(vips, { vip: 'local' }), []);
});

test('the CLI says so when there is nothing to clean up, and exits 2 on a bad config', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-cleanup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cli = resolve(__dirname, '..', '..', '..', '..', 'cluster', 'cli', 'main.js');
  const good = join(dir, 'bind.yaml');
  writeFileSync(good, `cluster:\n  name: t\nnode:\n  id: n1\nvips:\n  - name: local\n    driver: bind\n    address: 127.0.0.50\nlisteners:\n  - name: ws\n    on: vip:local\n    port: 8000\nroutes:\n  - pool: app\npools:\n  app:\n    backends:\n      - id: b1\n        url: http://127.0.0.1:1\n`);
  const r = spawnSync(process.execPath, [cli, 'vip', 'cleanup', '--config', good], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /no VIP to clean up/);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'cluster: {}\n');
  const r2 = spawnSync(process.execPath, [cli, 'vip', 'cleanup', '--config', bad], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r2.status, 2, r2.stderr);
});
