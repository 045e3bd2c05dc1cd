/**
 * exec VIP driver with real shell scripts written by the test: they record
 * their arguments and environment to a file, fail, or hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecDriver, execInvocation } from '../../../../cluster/vip/drivers/exec';
import type { VipConfig } from '../../../../shared/config/schema';
import { VipDriverError } from '../../../../shared/errors';
import { silentLogger } from '../../../../shared/logger';
import { sleep } from '../../../harness/ports';

/** Running = exists and is not a zombie (an orphan may wait a while for a reaper). */
function isRunning(pid: number): boolean {
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

function setup(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-exec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'calls.log');
  const script = join(dir, 'vip.sh');
  writeFileSync(script, `#!/bin/sh\necho "args=$*|env=$WSHA_ACTION,$WSHA_VIP,$WSHA_ADDRESS,$WSHA_NODE,$WSHA_EPOCH" >> "${log}"\necho "moved $2"\n`, { mode: 0o755 });
  const calls = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  return { dir, script, calls };
}

function vip(over: Partial<VipConfig>): VipConfig {
  return { name: 'web', driver: 'exec', address: '203.0.113.7', preempt: false, execTimeoutMs: 2000, garpCount: 3, garpIntervalMs: 200, ...over };
}

const ctx = { vip: 'web', address: '203.0.113.7', nodeId: 'node-a', epoch: 12 };

test('invocation: sh -c with ACTION VIP ADDRESS NODE EPOCH appended, same values in the environment', () => {
  const inv = execInvocation('/opt/fip.sh --region x', 'up', ctx);
  assert.equal(inv.file, '/bin/sh');
  assert.deepEqual(inv.args, ['-c', '/opt/fip.sh --region x "$@"', 'wsha-vip', 'up', 'web', '203.0.113.7', 'node-a', '12']);
  assert.deepEqual(inv.env, {
    WSHA_ACTION: 'up', WSHA_VIP: 'web', WSHA_ADDRESS: '203.0.113.7', WSHA_NODE: 'node-a', WSHA_EPOCH: '12',
    WSHA_VIP_ACTION: 'up', WSHA_VIP_NAME: 'web', WSHA_VIP_ADDRESS: '203.0.113.7', WSHA_VIP_NODE: 'node-a', WSHA_VIP_EPOCH: '12',
  });
});

test('invocation: only the variables named in passEnv come from the environment, and never override the WSHA_* ones', () => {
  const inv = execInvocation('x', 'down', ctx, ['HCLOUD_TOKEN', 'MISSING', 'WSHA_VIP'], { HCLOUD_TOKEN: 'h', WSHA_ADMIN_TOKEN: 'secret', WSHA_VIP: 'spoofed' });
  assert.equal(inv.env.HCLOUD_TOKEN, 'h');
  assert.equal(inv.env.WSHA_VIP, 'web');
  assert.ok(!('MISSING' in inv.env) && !('WSHA_ADMIN_TOKEN' in inv.env));
});

test('up, announce, down and cleanup run the scripts with the right arguments', async (t) => {
  const s = setup(t);
  const d = new ExecDriver(vip({ up: `${s.script} extra-up`, down: s.script }), silentLogger());
  assert.equal(d.reusePort, false);
  await d.up(ctx);
  await d.announce(ctx);
  await d.down({ ...ctx, epoch: 13 });
  await d.cleanup({ vip: 'web', address: '203.0.113.7', nodeId: 'node-a' });
  assert.deepEqual(s.calls(), [
    'args=extra-up up web 203.0.113.7 node-a 12|env=up,web,203.0.113.7,node-a,12',
    'args=extra-up announce web 203.0.113.7 node-a 12|env=announce,web,203.0.113.7,node-a,12',
    'args=down web 203.0.113.7 node-a 13|env=down,web,203.0.113.7,node-a,13',
    'args=cleanup web 203.0.113.7 node-a 0|env=cleanup,web,203.0.113.7,node-a,0',
  ]);
});

test('a non-zero exit is a VipDriverError carrying the script output', async (t) => {
  const s = setup(t);
  const bad = join(s.dir, 'bad.sh');
  writeFileSync(bad, '#!/bin/sh\necho "quota exceeded for $3" >&2\nexit 3\n', { mode: 0o755 });
  const d = new ExecDriver(vip({ up: bad, down: s.script }), silentLogger());
  await assert.rejects(d.up(ctx), (e: unknown) => e instanceof VipDriverError && e.code === 'WSHA_ERR_VIP_DRIVER' && /exit code 3: quota exceeded for 203\.0\.113\.7/.test(e.message));
});

test('a hanging script is killed with its whole process group at execTimeoutMs', async (t) => {
  const s = setup(t);
  const pidFile = join(s.dir, 'child.pid');
  const hang = join(s.dir, 'hang.sh');
  // The script starts a grandchild that would outlive it unless the group is killed.
  writeFileSync(hang, `#!/bin/sh\nsleep 30 &\necho $! > "${pidFile}"\nwait\n`, { mode: 0o755 });
  const d = new ExecDriver(vip({ up: hang, down: s.script, execTimeoutMs: 300 }), silentLogger());
  const started = Date.now();
  await assert.rejects(d.up(ctx), (e: unknown) => e instanceof VipDriverError && /timed out/.test(e.message));
  const took = Date.now() - started;
  assert.ok(took >= 250 && took < 5000, `gave up after ${took} ms`);
  const grandchild = Number(readFileSync(pidFile, 'utf8'));
  let alive = true;
  for (let i = 0; i < 50 && alive; i++) {
    alive = isRunning(grandchild);
    if (alive) await sleep(20);
  }
  assert.equal(alive, false, 'the grandchild sleep was killed too');
});

test('both commands are required', () => {
  assert.throws(() => new ExecDriver(vip({ up: '/bin/true' }), silentLogger()), VipDriverError);
});
