/**
 * The admin HTTP server on a real socket: open health endpoints, 401 with
 * nothing done on a wrong or missing token, Prometheus text on /metrics,
 * actions reaching their providers, server-sent events with the token as a
 * query parameter or cookie.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { AdminServer } from '../../cluster/admin/admin-server';
import { Metrics } from '../../shared/metrics';
import { HandoverError } from '../../shared/errors';
import { parsePrometheus } from '../harness/prometheus';

const TOKEN = 'test-token-123456';

function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

async function startAdmin(t: { after(fn: () => unknown): void }) {
  const calls: string[] = [];
  let ready = true;
  const metrics = new Metrics({ nodeId: 'n1' });
  metrics.connectionsOpen.set({ listener: 'public', pool: 'chat', backend: 'b1' }, 3);
  metrics.vipOwner.set({ vip: 'front' }, 1);
  const server = new AdminServer({
    listen: '127.0.0.1:0', token: TOKEN, metrics, eventIntervalMs: 100,
    providers: {
      state: () => ({ nodeId: 'n1', drained: calls.includes('drain') }),
      ready: () => ({ ready, reason: ready ? undefined : 'redis lost' }),
      clusterStatus: async () => ({ cluster: 'c1', calls: calls.length }),
      drain: async () => { calls.push('drain'); return { drained: true }; },
      undrain: async () => { calls.push('undrain'); return { drained: false }; },
      failover: async (req) => {
        calls.push(`failover:${req.vip ?? ''}:${req.to ?? ''}`);
        if (req.to === 'nobody') throw new HandoverError('no such target');
        return { vip: req.vip, newOwner: req.to };
      },
    },
  });
  const { port } = await server.start();
  t.after(() => server.close());
  return { port, calls, setReady: (v: boolean) => { ready = v; } };
}

test('healthz and readyz are open; readyz says 503 when not ready', async (t) => {
  const a = await startAdmin(t);
  assert.equal((await call(a.port, 'GET', '/healthz')).status, 200);
  assert.equal((await call(a.port, 'GET', '/readyz')).status, 200);
  a.setReady(false);
  const r = await call(a.port, 'GET', '/readyz');
  assert.equal(r.status, 503);
  assert.equal(JSON.parse(r.text).reason, 'redis lost');
});

test('missing or wrong token gets 401 and the action is not done', async (t) => {
  const a = await startAdmin(t);
  for (const path of ['/metrics', '/api/state', '/api/status', '/api/events']) {
    assert.equal((await call(a.port, 'GET', path)).status, 401, `GET ${path} without token`);
    assert.equal((await call(a.port, 'GET', path, { authorization: 'Bearer wrong-token-xx' })).status, 401, `GET ${path} wrong token`);
  }
  for (const path of ['/api/drain', '/api/undrain', '/api/failover']) {
    const r = await call(a.port, 'POST', path, { authorization: 'Bearer nope' }, '{}');
    assert.equal(r.status, 401);
    assert.equal(JSON.parse(r.text).error.code, 'WSHA_ERR_UNAUTHORIZED');
    assert.equal((await call(a.port, 'POST', `${path}?token=${TOKEN}x`)).status, 401);
  }
  assert.deepEqual(a.calls, []);
});

test('/metrics is Prometheus text with the named series', async (t) => {
  const a = await startAdmin(t);
  const r = await call(a.port, 'GET', '/metrics', { authorization: `Bearer ${TOKEN}` });
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain/);
  const exp = parsePrometheus(r.text);
  for (const name of ['wsha_connections_open', 'wsha_connections_total', 'wsha_handshake_failures_total', 'wsha_bytes_total', 'wsha_backend_up', 'wsha_vip_owner', 'wsha_vip_epoch', 'wsha_ownership_changes_total', 'wsha_peer_heartbeat_age_seconds', 'wsha_redis_round_trip_seconds', 'wsha_redis_errors_total', 'wsha_draining']) {
    assert.ok(exp.types.has(name), `missing ${name}`);
  }
  const open = exp.samples.find((s) => s.name === 'wsha_connections_open' && s.labels.backend === 'b1');
  assert.deepEqual(open, { name: 'wsha_connections_open', labels: { listener: 'public', pool: 'chat', backend: 'b1', node: 'n1' }, value: 3 });
});

test('actions reach their providers with the token; errors keep their code and status', async (t) => {
  const a = await startAdmin(t);
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const d = await call(a.port, 'POST', '/api/drain', auth);
  assert.equal(d.status, 200);
  assert.deepEqual(JSON.parse(d.text), { ok: true, result: { drained: true } });
  assert.equal(JSON.parse((await call(a.port, 'GET', '/api/state', auth)).text).drained, true);
  const f = await call(a.port, 'POST', '/api/failover', auth, JSON.stringify({ vip: 'front', to: 'n2' }));
  assert.deepEqual(JSON.parse(f.text).result, { vip: 'front', newOwner: 'n2' });
  const bad = await call(a.port, 'POST', '/api/failover', auth, JSON.stringify({ vip: 'front', to: 'nobody' }));
  assert.equal(bad.status, 409);
  assert.equal(JSON.parse(bad.text).error.code, 'WSHA_ERR_HANDOVER');
  const junk = await call(a.port, 'POST', '/api/failover', auth, '{not json');
  assert.equal(junk.status, 400);
  assert.deepEqual(a.calls, ['drain', 'failover:front:n2', 'failover:front:nobody']);
});

test('event stream accepts the token as query parameter or cookie and sends snapshots', async (t) => {
  const a = await startAdmin(t);
  for (const how of ['query', 'cookie'] as const) {
    const path = how === 'query' ? `/api/events?token=${TOKEN}` : '/api/events';
    const headers: Record<string, string> = how === 'cookie' ? { cookie: `other=1; wsha_admin_token=${TOKEN}` } : {};
    const frame = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: a.port, path, headers }, (res) => {
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['content-type'], 'text/event-stream');
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          buf += c;
          const m = buf.match(/event: status\ndata: (.*)\n\n/);
          if (m) { resolve(m[1]); req.destroy(); }
        });
      });
      req.on('error', (e) => { if (!(e as NodeJS.ErrnoException).code?.includes('RESET')) reject(e); });
      setTimeout(() => reject(new Error('no event within 5 s')), 5000).unref();
      req.end();
    });
    const snap = JSON.parse(frame);
    assert.equal(snap.node.nodeId, 'n1');
    assert.equal(snap.cluster.cluster, 'c1');
  }
});

test('the live page loads without a token and carries no cluster data', async (t) => {
  const a = await startAdmin(t);
  const r = await call(a.port, 'GET', '/');
  assert.equal(r.status, 200);
  assert.match(r.text, /<title>wsha cluster<\/title>/);
  assert.equal((await call(a.port, 'GET', '/app.js')).status, 200);
  assert.equal((await call(a.port, 'GET', '/../../package.json')).status, 401);
});
