/** Text helpers of the CLI: durations and tables (no colour when not a terminal). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duration, table } from '../../../../cluster/cli/format';

test('durations read naturally', () => {
  assert.equal(duration(null), '-');
  assert.equal(duration(-5), '0ms');
  assert.equal(duration(999), '999ms');
  assert.equal(duration(1234), '1.2s');
  assert.equal(duration(61_000), '1m1s');
  assert.equal(duration(3_720_000), '1h2m');
  assert.equal(duration(90_061_000), '1d1h');
});

test('tables align columns and show missing values as -', () => {
  const out = table(['node', 'prio'], [['node-a', 200], ['b', null]]);
  assert.equal(out, '  NODE    PRIO\n  node-a  200\n  b       -\n');
  assert.match(table(['x'], []), /\(none\)/);
});
