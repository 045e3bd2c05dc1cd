import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { selectBackend, sessionKeyOf } from '../../../../node/balance/select';
import { BackendPool } from '../../../../node/pool/backend-pool';
import { localClusterView, type ClusterView } from '../../../../shared/cluster-view';
import { nodeConfig, rawNodeConfig } from '../../../fixtures/node-config';

function pool(sticky: object | undefined, view: ClusterView, balance = 'sticky'): BackendPool {
  const raw = rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002', 'http://127.0.0.1:9003'], balance, pool: sticky ? { sticky } : {} });
  return new BackendPool('app', nodeConfig(raw).pools.app, view);
}
const req = (headers: Record<string, string>, url = '/') => ({ headers, url }) as unknown as IncomingMessage;

test('session keys come from the configured cookie, header or query parameter', () => {
  const v = localClusterView();
  assert.equal(sessionKeyOf(pool({ cookie: 'sid' }, v), req({ cookie: 'x=1; sid=abc' })), 'abc');
  assert.equal(sessionKeyOf(pool({ header: 'X-Session' }, v), req({ 'x-session': 'h1' })), 'h1');
  assert.equal(sessionKeyOf(pool({ query: 's' }, v), req({}, '/ws?a=1&s=q1')), 'q1');
  assert.equal(sessionKeyOf(pool({ query: 's' }, v), req({}, '/ws')), null);
  assert.equal(sessionKeyOf(pool(undefined, v), req({})), null);
});

test('the affinity answer is used and the choice recorded; a move is recorded with where it came from', async () => {
  const recorded: Array<[string, string, string | undefined]> = [];
  const view: ClusterView = { ...localClusterView(), affinity: { lookup: async () => 'app-3', record: (_p, key, id, movedFrom) => { recorded.push([key, id, movedFrom]); } } };
  const sel = await selectBackend(pool({ header: 'X-S' }, view), view, req({ 'x-s': 'k' }), '192.0.2.1', 50);
  assert.equal(sel!.backend.id, 'app-3');
  const down: ClusterView = { ...view, health: { isUp: (_p, id) => id !== 'app-3', rampFactor: () => 1 } };
  const moved = await selectBackend(pool({ header: 'X-S' }, down), down, req({ 'x-s': 'k' }), '192.0.2.1', 50);
  assert.notEqual(moved!.backend.id, 'app-3');
  assert.deepEqual(recorded, [['k', 'app-3', undefined], ['k', moved!.backend.id, 'app-3']]);
});

test('a slow affinity store does not hold the handshake longer than lookupTimeoutMs', async () => {
  const view: ClusterView = { ...localClusterView(), affinity: { lookup: () => new Promise(() => {}), record: () => {} } };
  const started = Date.now();
  const sel = await selectBackend(pool(undefined, view), view, req({}), '192.0.2.7', 60);
  assert.ok(sel);
  assert.ok(Date.now() - started < 1000);
});

test('setCookie makes a session key for a client without one, for the response and the forwarded request', async () => {
  const view = localClusterView();
  const sel = await selectBackend(pool({ cookie: 'sid', setCookie: true }, view), view, req({}), '192.0.2.1', 50);
  const m = /^Set-Cookie: sid=([A-Za-z0-9_-]{16}); Path=\/; HttpOnly\r\n$/.exec(sel!.responseExtra);
  assert.ok(m, sel!.responseExtra);
  assert.equal(sel!.requestExtra, `Cookie: sid=${m[1]}\r\n`);
  const again = await selectBackend(pool({ cookie: 'sid', setCookie: true }, view), view, req({ cookie: `sid=${m[1]}` }), '192.0.2.99', 50);
  assert.equal(again!.backend.id, sel!.backend.id);
  assert.equal(again!.responseExtra, '');
});
