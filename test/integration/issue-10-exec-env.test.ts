/**
 * Issue 10: `exec` VIP scripts inherited wsha's whole environment,
 * WSHA_ADMIN_TOKEN and WSHA_REDIS_PASSWORD included. A real script dumps
 * its environment: it holds PATH, the documented WSHA_* variables and what
 * the VIP's passEnv names, nothing else; and no secret reaches the log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ExecDriver } from '../../cluster/vip/drivers/exec';
import type { VipConfig } from '../../shared/config/schema';

const SECRETS = { WSHA_ADMIN_TOKEN: 'admin-secret-value-1', WSHA_REDIS_PASSWORD: 'redis-secret-value-2', AWS_SECRET_ACCESS_KEY: 'aws-secret-value-3' };

test('exec scripts get PATH, the WSHA_* variables and passEnv only; no secret is logged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-issue10-exec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'env.txt');
  const script = join(dir, 'dump.sh');
  writeFileSync(script, `#!/bin/sh\nenv > "${out}"\necho "done $1"\n`, { mode: 0o755 });
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries({ ...SECRETS, CLOUD_API_TOKEN: 'passed-on-purpose', HOME_REGION: 'x' })) { saved[k] = process.env[k]; process.env[k] = v; }
  t.after(() => { for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; } });

  let logged = '';
  const sink = new Writable({ write(chunk, _enc, cb) { logged += chunk.toString(); cb(); } });
  const logger = pino({ level: 'trace' }, sink);
  const vip: VipConfig = { name: 'web', driver: 'exec', address: '203.0.113.7', preempt: false, execTimeoutMs: 5000, garpCount: 3, garpIntervalMs: 200, up: script, down: script, passEnv: ['CLOUD_API_TOKEN'] };
  await new ExecDriver(vip, logger).up({ vip: 'web', address: '203.0.113.7', nodeId: 'node-a', epoch: 7 });

  const env = Object.fromEntries(readFileSync(out, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  // The shell adds a few of its own (PWD, SHLVL, _); none comes from wsha's environment.
  const fromShell = new Set(['PWD', 'SHLVL', '_', 'OLDPWD']);
  const names = Object.keys(env).filter((k) => !fromShell.has(k)).sort();
  assert.deepEqual(names, ['CLOUD_API_TOKEN', 'PATH', 'WSHA_ACTION', 'WSHA_ADDRESS', 'WSHA_EPOCH', 'WSHA_NODE', 'WSHA_VIP',
    'WSHA_VIP_ACTION', 'WSHA_VIP_ADDRESS', 'WSHA_VIP_EPOCH', 'WSHA_VIP_NAME', 'WSHA_VIP_NODE']);
  assert.equal(env.PATH, process.env.PATH);
  assert.equal(env.CLOUD_API_TOKEN, 'passed-on-purpose');
  assert.equal(env.WSHA_VIP_ADDRESS, '203.0.113.7');
  assert.equal(env.WSHA_VIP_EPOCH, '7');
  for (const v of Object.values(SECRETS)) assert.ok(!readFileSync(out, 'utf8').includes(v), 'a secret reached the script');
  for (const v of [...Object.values(SECRETS), 'passed-on-purpose']) assert.ok(!logged.includes(v), `${v} was logged`);
  assert.match(logged, /done up/);
});
