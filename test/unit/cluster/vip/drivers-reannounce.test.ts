/** PeerReturnWatch: which membership changes call for a re-announce of the owner's VIPs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerReturnWatch } from '../../../../cluster/vip/drivers/reannounce';

test('a peer that comes back alive (healed partition) is reported once; self and steady peers never', () => {
  const w = new PeerReturnWatch('b');
  assert.deepEqual(w.update([{ id: 'a', alive: true }, { id: 'b', alive: true }]), [], 'nothing returns on the first view');
  assert.deepEqual(w.update([{ id: 'a', alive: true }, { id: 'b', alive: true }]), []);
  assert.deepEqual(w.update([{ id: 'a', alive: false }, { id: 'b', alive: true }]), [], 'a goes silent');
  assert.deepEqual(w.update([{ id: 'b', alive: true }]), [], 'a expired from the view');
  assert.deepEqual(w.update([{ id: 'a', alive: true }, { id: 'b', alive: true }]), ['a'], 'a is back: re-announce');
  assert.deepEqual(w.update([{ id: 'a', alive: true }, { id: 'b', alive: true }]), []);
  assert.deepEqual(w.update([{ id: 'a', alive: true }, { id: 'b', alive: true }, { id: 'c', alive: true }]), ['c'], 'a new peer');
  assert.deepEqual(w.update([{ id: 'a', alive: true }, { id: 'b', alive: false }, { id: 'c', alive: true }]), [], 'self is never a peer');
});
