/**
 * The driver's one-at-a-time queue (cluster/vip/drivers/serial.ts): an
 * operation starts in the caller's turn when nothing is in flight, queued
 * ones keep call order (also one queued just as the one before settles),
 * and a failure does not block what follows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SerialQueue } from '../../../../cluster/vip/drivers/serial';

const tick = () => new Promise((r) => setImmediate(r));

test('an idle queue starts the operation at once; a busy one after the one before', async () => {
  const q = new SerialQueue();
  const log: string[] = [];
  let releaseA!: () => void;
  const a = q.run(() => { log.push('a start'); return new Promise<void>((r) => { releaseA = () => { log.push('a end'); r(); }; }); });
  assert.deepEqual(log, ['a start'], 'started in the caller\'s turn');
  const b = q.run(async () => { log.push('b'); });
  await tick();
  assert.deepEqual(log, ['a start'], 'b waits for a');
  releaseA();
  await Promise.all([a, b]);
  assert.deepEqual(log, ['a start', 'a end', 'b']);
});

test('call order holds when an operation is queued as the one before settles, and a failure does not block', async () => {
  const q = new SerialQueue();
  const log: string[] = [];
  const slow = (name: string, ms: number, fail = false) => () => new Promise<void>((resolve, reject) => setTimeout(() => { log.push(name); fail ? reject(new Error(name)) : resolve(); }, ms));
  const a = q.run(slow('a', 20, true));
  const b = q.run(slow('b', 1));
  // Queued from a's own settling: must still run after b, which was queued first.
  const c = a.catch(() => q.run(slow('c', 0)));
  await assert.rejects(a, /a/);
  await Promise.all([b, c]);
  assert.deepEqual(log, ['a', 'b', 'c']);
  let ran = false;
  await q.run(async () => { ran = true; });
  assert.equal(ran, true);
  const sync = q.run(() => { throw new Error('thrown, not returned'); });
  await assert.rejects(sync, /thrown/);
  assert.equal(await q.run(async () => 7), 7);
});
