import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sumRemote } from '../../../../cluster/counts/connection-counts';

const now = 1_000_000;
/** How long each node's stamp has been unchanged on the reader's clock (Infinity: never seen), from the stamps of `fields`. */
const agesFrom = (fields: Record<string, string>) => (node: string) => (fields[`${node}|@`] === undefined ? Infinity : now - Number(fields[`${node}|@`]));

test('sums the other live nodes per backend, never this node', () => {
  const fields = { 'n1|@': String(now), 'n1|a': '5', 'n2|@': String(now - 100), 'n2|a': '2', 'n2|b': '1', 'n3|@': String(now - 50), 'n3|b': '4' };
  const { sums, purge } = sumRemote(fields, 'n1', agesFrom(fields), 1000);
  assert.deepEqual(Object.fromEntries(sums), { a: 2, b: 5 });
  assert.deepEqual(purge, []);
});

test('a node whose stamp is stale is ignored, and purged once long stale', () => {
  const fields = { 'n2|@': String(now - 1500), 'n2|a': '7', 'n3|@': String(now - 61_000), 'n3|a': '9' };
  const { sums, purge } = sumRemote(fields, 'n1', agesFrom(fields), 1000);
  assert.equal(sums.get('a'), undefined);
  assert.deepEqual(purge.sort(), ['n3|@', 'n3|a']);
});

test('fields without a stamp (a writer from before) are treated as long stale', () => {
  const { sums, purge } = sumRemote({ 'ghost|a': '3' }, 'n1', agesFrom({ 'ghost|a': '3' }), 1000);
  assert.equal(sums.size, 0);
  assert.deepEqual(purge, ['ghost|a']);
});

test('the liveness check drops a node at once, before its stamp ages', () => {
  const fields = { 'n2|@': String(now), 'n2|a': '3', 'n3|@': String(now), 'n3|a': '1' };
  const { sums } = sumRemote(fields, 'n1', agesFrom(fields), 1000, (id) => id !== 'n2');
  assert.equal(sums.get('a'), 1);
});

test('malformed fields and values do not break the sum', () => {
  const fields = { nobar: '1', 'n2|@': String(now), 'n2|a': 'x', 'n2|b': '2' };
  const { sums } = sumRemote(fields, 'n1', agesFrom(fields), 1000);
  assert.deepEqual(Object.fromEntries(sums), { a: 0, b: 2 });
});
