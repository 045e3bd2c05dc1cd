/**
 * The access-boundary fuzzer (test/fuzz/run.ts) for a few seconds, so that
 * it keeps working and `npm test` catches the grossest regressions it
 * would find; long runs are `npm run fuzz -- --seconds N`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from '../fuzz/run';

test('a short fuzz run finds nothing and leaves the node as it found it', { timeout: 90_000 }, async () => {
  const report = await runFuzz({ seconds: 4, seed: 20261001, concurrency: 4, everyOffset: false, log: () => {} });
  assert.ok(report.cases > 100, `only ${report.cases} cases`);
  assert.deepEqual(report.findings, []);
  assert.equal(report.node.alive, true);
});
