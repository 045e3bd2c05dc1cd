/**
 * ControlPriority: the control process raises itself once, forks its
 * workers at the normal value and returns to the raised one; without the
 * privilege it stays where it was and says why. With a recording setter
 * first, then against the real kernel (the tests run as root): a worker
 * forked through atNormalPriority runs every thread at nice 0 while the
 * parent's main thread is at CONTROL_NICE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ControlPriority, CONTROL_NICE } from '../../../cluster/node-process/control-priority';

test('raise, then a fork at the normal value between two raised stretches', () => {
  const calls: number[] = [];
  const p = new ControlPriority((n) => { calls.push(n); }, () => 0);
  assert.deepEqual(p.raise(), { applied: true, nice: CONTROL_NICE });
  assert.equal(p.atNormalPriority(() => { calls.push(999); return 'child'; }), 'child');
  assert.deepEqual(calls, [CONTROL_NICE, 0, 999, CONTROL_NICE]);
});

test('without the privilege: nothing raised, the reason given, forks untouched', () => {
  const calls: number[] = [];
  const p = new ControlPriority((n) => { calls.push(n); throw Object.assign(new Error('denied'), { code: 'EACCES' }); }, () => 0);
  assert.deepEqual(p.raise(), { applied: false, nice: 0, error: 'EACCES' });
  assert.equal(p.atNormalPriority(() => 7), 7);
  assert.deepEqual(calls, [CONTROL_NICE], 'no setpriority around the fork');
});

const root = process.getuid?.() === 0;

test('against the kernel: every thread of a child forked at the normal value runs at nice 0', { skip: root ? false : 'needs root (CAP_SYS_NICE)', timeout: 20_000 }, () => {
  // In a process of its own, so that the test runner's thread keeps its value.
  const script = `
const { ControlPriority } = require(${JSON.stringify(require.resolve('../../../cluster/node-process/control-priority'))});
const { spawn } = require('node:child_process');
const { readdirSync, readFileSync } = require('node:fs');
const { getPriority } = require('node:os');
const niceOf = (pid) => readdirSync('/proc/' + pid + '/task').map((tid) => Number(readFileSync('/proc/' + pid + '/task/' + tid + '/stat', 'utf8').split(') ')[1].split(' ')[16]));
const p = new ControlPriority();
const r = p.raise();
const child = p.atNormalPriority(() => spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'ignore' }));
setTimeout(() => { process.stdout.write(JSON.stringify({ r, self: getPriority(0), child: niceOf(child.pid) })); child.kill(); }, 700);`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 })) as { r: { applied: boolean }; self: number; child: number[] };
  assert.equal(out.r.applied, true);
  assert.equal(out.self, CONTROL_NICE, 'the raising thread is back at CONTROL_NICE after the fork');
  assert.ok(out.child.length >= 2, `the child's threads: ${out.child}`);
  assert.deepEqual(out.child, out.child.map(() => 0), 'every thread of the child at nice 0');
});
