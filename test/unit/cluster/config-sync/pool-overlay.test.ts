import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackendConfig, PoolConfig } from '../../../../shared/config/schema';
import type { PoolChange } from '../../../../shared/records';
import { applyChange, applyOverlay, applyOverlays, emptyOverlay, parseOverlay, HISTORY_LENGTH, type PoolOverlay } from '../../../../cluster/config-sync/pool-overlay';

const base: BackendConfig[] = [{ id: 'a', url: 'ws://127.0.0.1:1001', weight: 2 }, { id: 'b', url: 'ws://127.0.0.1:1002', weight: 1 }];
let v = 0;
const change = (op: PoolChange['op'], backendId: string, url?: string): PoolChange => ({ version: ++v, pool: 'app', op, backendId, url, at: 1, by: 'test' });
const codeOf = (fn: () => unknown): string => { try { fn(); } catch (err) { return (err as { code: string }).code; } return 'no error'; };

test('add, disable, enable and remove change the effective backends', () => {
  let o: PoolOverlay = emptyOverlay();
  o = applyChange(o, change('add', 'c', 'ws://127.0.0.1:1003'), base);
  assert.deepEqual(applyOverlay(base, o).map((b) => [b.id, b.weight]), [['a', 2], ['b', 1], ['c', 1]]);
  o = applyChange(o, change('disable', 'a'), base);
  assert.deepEqual(applyOverlay(base, o).map((b) => [b.id, b.weight]), [['a', 0], ['b', 1], ['c', 1]]);
  o = applyChange(o, change('enable', 'a'), base);
  assert.equal(o.backends.a, undefined, 'enable of a file backend leaves no override');
  assert.equal(applyOverlay(base, o)[0].weight, 2, 'file weight restored');
  o = applyChange(o, change('remove', 'b'), base);
  o = applyChange(o, change('disable', 'c'), base);
  assert.deepEqual(applyOverlay(base, o).map((b) => [b.id, b.weight, b.url]), [['a', 2, 'ws://127.0.0.1:1001'], ['c', 0, 'ws://127.0.0.1:1003']]);
  assert.equal(o.version, v);
  assert.deepEqual(o.history.map((h) => h.op), ['add', 'disable', 'enable', 'remove', 'disable']);
});

test('conflicts and unknown backends are refused with codes, nothing changes', () => {
  const o = emptyOverlay();
  assert.equal(codeOf(() => applyChange(o, change('add', 'a', 'ws://x:1'), base)), 'WSHA_ERR_POOL_CHANGE');
  assert.equal(codeOf(() => applyChange(o, change('add', 'z'), base)), 'WSHA_ERR_POOL_CHANGE');
  assert.equal(codeOf(() => applyChange(o, change('remove', 'z'), base)), 'WSHA_ERR_NOT_FOUND');
  assert.equal(codeOf(() => applyChange(o, change('enable', 'a'), base)), 'WSHA_ERR_POOL_CHANGE');
  const d = applyChange(o, change('disable', 'a'), base);
  assert.equal(codeOf(() => applyChange(d, change('disable', 'a'), base)), 'WSHA_ERR_POOL_CHANGE');
  assert.deepEqual(o, emptyOverlay(), 'input untouched');
});

test('a removed backend can be added back with a new URL', () => {
  let o = applyChange(emptyOverlay(), change('remove', 'a'), base);
  assert.equal(codeOf(() => applyChange(o, change('disable', 'a'), base)), 'WSHA_ERR_NOT_FOUND');
  o = applyChange(o, change('add', 'a', 'ws://127.0.0.1:2001'), base);
  assert.deepEqual(applyOverlay(base, o).find((b) => b.id === 'a'), { id: 'a', url: 'ws://127.0.0.1:2001', weight: 1 });
});

test('without a base, known ids (from the verdict table) decide presence', () => {
  const known = new Set(['a', 'b']);
  assert.equal(codeOf(() => applyChange(emptyOverlay(), change('add', 'a', 'ws://x:1'), null, known)), 'WSHA_ERR_POOL_CHANGE');
  assert.equal(applyChange(emptyOverlay(), change('disable', 'b'), null, known).backends.b?.disabled, true);
  assert.equal(codeOf(() => applyChange(emptyOverlay(), change('remove', 'q'), null, known)), 'WSHA_ERR_NOT_FOUND');
});

test('history is bounded', () => {
  let o = emptyOverlay();
  for (let i = 0; i < HISTORY_LENGTH + 5; i++) o = applyChange(o, change(i % 2 ? 'enable' : 'disable', 'a'), base);
  assert.equal(o.history.length, HISTORY_LENGTH);
});

test('applyOverlays keeps untouched pools by reference and ignores unknown pools', () => {
  const pool = { balance: 'round-robin', backends: base } as unknown as PoolConfig;
  const pools = { app: pool, other: pool };
  const overlay = applyChange(emptyOverlay(), change('remove', 'a'), base);
  const out = applyOverlays(pools, { app: overlay, ghost: overlay });
  assert.equal(out.other, pool);
  assert.notEqual(out.app, pool);
  assert.deepEqual(out.app.backends.map((b) => b.id), ['b']);
  assert.equal(out.ghost, undefined);
});

test('parseOverlay rejects garbage', () => {
  assert.equal(parseOverlay('{'), null);
  assert.equal(parseOverlay('{"version":"x"}'), null);
  assert.equal(parseOverlay(null), null);
  assert.deepEqual(parseOverlay('{"version":3,"backends":{}}'), { version: 3, backends: {}, history: [] });
});
