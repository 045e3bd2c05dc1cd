/**
 * The `exec` VIP driver driven by real wsha nodes: two nodes on loopback,
 * the VIP on a 127.0.0.0/8 address (always local, so the listeners can bind
 * it), and operator scripts written by the test that append their arguments
 * and WSHA_* environment to a file. Checks the exact calls: cleanup at
 * start, up on the owner with its epoch, up on the standby with the next
 * epoch after the owner is SIGKILLed, down when the owner leaves on SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnNodeProcess, type NodeProcess } from '../harness/node-process';
import { startRedis } from '../harness/redis';
import { freePort, waitFor } from '../harness/ports';
import { scratchDir } from '../harness/netns-node';
import { vipNodeConfig } from '../fixtures/node-config';

test('exec driver: the operator scripts get ACTION VIP ADDRESS NODE EPOCH on cleanup, up (kill -9 takeover) and down', { timeout: 60_000 }, async (t) => {
  const scratch = scratchDir();
  t.after(() => scratch.remove());
  const redis = await startRedis();
  t.after(() => redis.stop());
  const log = join(scratch.dir, 'calls.log');
  const script = join(scratch.dir, 'vip.sh');
  writeFileSync(script, `#!/bin/sh\necho "$*|$WSHA_ACTION $WSHA_VIP $WSHA_ADDRESS $WSHA_NODE $WSHA_EPOCH" >> "${log}"\n`, { mode: 0o755 });
  const calls = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  const vip = `127.${200 + (process.pid % 50)}.${process.pid % 250}.9`;
  const port = await freePort();
  const nodes: Record<string, NodeProcess> = {};
  for (const [id, priority] of [['a', 200], ['b', 100]] as const) {
    nodes[id] = spawnNodeProcess(vipNodeConfig({
      cluster: 'exec-test', id, priority, redisUrl: redis.url, vip: { driver: 'exec', address: vip, up: `${script} extra-arg`, down: script, execTimeoutMs: 3000 },
      port, admin: await freePort(), peer: await freePort(), backend: { id: 'app-1', url: 'http://127.0.0.1:1' },
    }));
    t.after(() => nodes[id]?.cleanup());
    if (id === 'a') await waitFor(() => calls().find((c) => c.startsWith('extra-arg up ')), 'the up script on the first node', 20_000, 20);
  }
  const a = nodes.a as NodeProcess;
  const b = nodes.b as NodeProcess;
  const dump = () => `\ncalls:\n${calls().join('\n')}\n--- a ---\n${a.stderr()}\n--- b ---\n${b.stderr()}`;
  await waitFor(() => calls().some((c) => c.startsWith('cleanup web') && c.includes(' b 0')), 'the cleanup call of node b at start', 20_000, 20);
  const upA = calls().find((c) => c.startsWith('extra-arg up ')) as string;
  const epochA = Number(upA.split('|')[0]?.split(' ')[5]);
  assert.equal(upA, `extra-arg up web ${vip} a ${epochA}|up web ${vip} a ${epochA}`, dump());
  assert.ok(epochA >= 1);
  assert.ok(calls().includes(`cleanup web ${vip} a 0|cleanup web ${vip} a 0`), dump());

  await new Promise((r) => setTimeout(r, 1500)); // b's view of a settled (heartbeat, peer link)
  a.signal('SIGKILL');
  const upB = await waitFor(() => calls().find((c) => c.startsWith(`extra-arg up web ${vip} b `)), 'the up script on b after the kill', 15_000, 20)
    .catch((e) => { throw new Error(`${e.message}${dump()}`); });
  const epochB = Number(upB.split('|')[0]?.split(' ')[5]);
  assert.ok(epochB > epochA, `fencing epoch grew: ${epochA} -> ${epochB}`);
  assert.equal(upB, `extra-arg up web ${vip} b ${epochB}|up web ${vip} b ${epochB}`);

  b.signal('SIGTERM');
  await waitFor(() => calls().includes(`down web ${vip} b ${epochB}|down web ${vip} b ${epochB}`), 'the down script when b leaves on SIGTERM', 20_000, 20)
    .catch((e) => { throw new Error(`${e.message}${dump()}`); });
});
