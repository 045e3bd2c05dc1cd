/**
 * The warm `ip` batch process (cluster/vip/drivers/ip-batch.ts) against the
 * real `ip`, inside a lab namespace: a script run there drives one IpBatch
 * through adds, deletes, repeats and failures, and prints what each request
 * answered. A failure's error text arrives on stderr while its end marker
 * arrives on stdout; every failed request here must still come back as a
 * rejection (never as "present"), many times in a row, and the request after
 * it must be answered correctly by the replacement process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { createLab, netnsAvailable, LAB_SUBNET } from '../harness/netns';

const skip = netnsAvailable() ? false : 'needs root and ip netns';
const IP_BATCH = resolve(__dirname, '..', '..', 'cluster', 'vip', 'drivers', 'ip-batch.js');

/** Runs inside the namespace: each step's outcome, one JSON array on stdout. */
function script(address: string): string {
  return `
const { IpBatch } = require(${JSON.stringify(IP_BATCH)});
const b = new IpBatch();
b.warm();
const out = [];
const step = (name, p) => p.then((r) => out.push([name, r.present]), (e) => out.push([name, 'error']));
(async () => {
  await step('add', b.change('add', '${address}', 32, 'eth0'));
  await step('add again', b.change('add', '${address}', 32, 'eth0'));
  for (let i = 0; i < 20; i++) {
    await step('add on a missing device', b.change('add', '${address}', 32, 'nosuch0'));
    await step('delete after a failure', b.change('del', '${address}', 32, 'eth0'));
    await step('add after a failure', b.change('add', '${address}', 32, 'eth0'));
  }
  await step('delete', b.change('del', '${address}', 32, 'eth0'));
  await step('delete again', b.change('del', '${address}', 32, 'eth0'));
  b.close();
  process.stdout.write(JSON.stringify(out));
})();`;
}

test('ip batch: adds, deletes and repeats report presence; a failed request is a rejection every time, and the next one is answered right', { skip, timeout: 60_000 }, async (t) => {
  const lab = createLab(['a']);
  t.after(() => lab.destroy());
  const address = `${LAB_SUBNET}.150`;
  const ns = lab.member('a').ns;
  const out = JSON.parse(lab.execIn(ns, process.execPath, ['-e', script(address)], 30_000)) as Array<[string, boolean | 'error']>;
  const by = (name: string) => out.filter(([n]) => n === name).map(([, v]) => v);
  assert.deepEqual(by('add'), [true]);
  assert.deepEqual(by('add again'), [true]);
  assert.deepEqual(by('add on a missing device'), Array(20).fill('error'), 'a failed add never reads as present');
  assert.deepEqual(by('delete after a failure'), Array(20).fill(false));
  assert.deepEqual(by('add after a failure'), Array(20).fill(true));
  assert.deepEqual(by('delete'), [false]);
  assert.deepEqual(by('delete again'), [false]);
  assert.equal(lab.hasAddress('a', address), false);
});
