/**
 * PROXY protocol on a listener (`proxyProtocol: true`): v1 and v2 headers
 * set the client address the backend sees (X-Forwarded-For) and the one
 * limits count; a connection without a valid header is closed; a pool with
 * `proxyProtocol: v1|v2` sends the client address on to its backends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Duplex } from 'node:stream';
import { request } from 'node:http';
import WebSocket from 'ws';
import { startBackend } from '../harness/backend';
import { startProxy, roundTrip } from '../harness/proxy';
import { rawExchange, slowExchange, upgradeRequest } from '../harness/raw-client';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';
import { encodeProxyHeader } from '../../node/listen/proxy-protocol';

function wsVia(port: number, header: Buffer): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, {
      handshakeTimeout: 5000,
      createConnection: () => { const s = connect(port, '127.0.0.1'); s.write(header); return s; },
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_q, res) => { reject(Object.assign(new Error(`status ${res.statusCode}`), { statusCode: res.statusCode })); ws.terminate(); });
  });
}

/** GET /h through a connection that starts with `header`; resolves with the body. */
function httpVia(port: number, header: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path: '/h', createConnection: () => { const s = connect(port, '127.0.0.1'); s.write(header); return s; } }, (res) => {
      let d = ''; res.on('data', (c) => { d += c; }); res.on('end', () => resolve(d));
    });
    req.on('error', reject);
    req.end();
  });
}

const v1 = (src: string, srcPort = 40000) => encodeProxyHeader('v1', { address: src, port: srcPort }, { address: '127.0.0.1', port: 80 });
const v2 = (src: string, srcPort = 40000) => encodeProxyHeader('v2', { address: src, port: srcPort }, { address: src.includes(':') ? '::1' : '127.0.0.1', port: 80 });

test('PROXY v1 and v2 headers set the client address the backend sees', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], listener: { proxyProtocol: true } })));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  for (const [header, addr] of [[v1('203.0.113.9'), '203.0.113.9'], [v2('198.51.100.23'), '198.51.100.23'], [v2('2001:db8::7'), '2001:db8::7']] as const) {
    const ws = await wsVia(port, header);
    const who = JSON.parse(await roundTrip(ws, 'whoami'));
    ws.terminate();
    assert.equal(who.headers['x-forwarded-for'], addr);
  }
  // Plain HTTP on the same listener.
  assert.equal(JSON.parse(await httpVia(port, v1('192.0.2.44'))).headers['x-forwarded-for'], '192.0.2.44');
  // Header and request in one write.
  const joined = await rawExchange(port, Buffer.concat([v2('192.0.2.45'), Buffer.from('GET /one HTTP/1.0\r\nHost: a\r\n\r\n')]));
  assert.match(joined.response, /^HTTP\/1\.1 200/);
  assert.match(joined.response, /"x-forwarded-for":"192\.0\.2\.45"/);
});

test('a connection without a valid PROXY header is closed, and the listener keeps serving', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], listener: { proxyProtocol: true }, limits: { handshakeTimeoutMs: 500 } })));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  const plain = await rawExchange(port, upgradeRequest('/'));
  assert.ok(plain.closed);
  assert.equal(plain.response, '', 'nothing is answered without a header');
  const bad = await rawExchange(port, 'PROXY TCP4 999.1.1.1 127.0.0.1 1 2\r\nGET / HTTP/1.1\r\n\r\n');
  assert.ok(bad.closed);
  assert.equal(bad.response, '');
  const silent = await rawExchange(port, '', 5000);
  assert.ok(silent.closed, 'a connection that sends no header is closed at the handshake timeout');
  assert.equal(b.seen.length, 0);
  const ws = await wsVia(port, v1('203.0.113.5'));
  assert.equal(await roundTrip(ws, 'fine'), 'fine');
  ws.terminate();
});

test('limits count the address from the PROXY header', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], listener: { proxyProtocol: true }, limits: { maxConnectionsPerClient: 2 } })));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  const held = [await wsVia(port, v1('203.0.113.1')), await wsVia(port, v1('203.0.113.1', 40001))];
  t.after(() => held.forEach((w) => w.terminate()));
  await assert.rejects(wsVia(port, v1('203.0.113.1', 40002)), (e: any) => e.statusCode === 429);
  held.push(await wsVia(port, v2('203.0.113.2')));
  assert.equal(node.limiter.countOf('203.0.113.1'), 2);
  assert.equal(node.limiter.countOf('203.0.113.2'), 1);
});

test('a pool with proxyProtocol v1/v2 sends the client address on to its backends', async (t) => {
  for (const version of ['v1', 'v2'] as const) {
    const b = await startBackend({ id: 'pp', proxyProtocol: true });
    const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], listener: { proxyProtocol: true }, pool: { proxyProtocol: version } })));
    try {
      const port = node.portOf('public')!;
      const ws = await wsVia(port, v1('203.0.113.77', 51234));
      const who = JSON.parse(await roundTrip(ws, 'whoami'));
      ws.terminate();
      assert.equal(who.proxyHeader.sourceAddress, '203.0.113.77');
      assert.equal(who.proxyHeader.sourcePort, 51234);
      assert.equal(who.proxyHeader.version, version === 'v1' ? 1 : 2);
      assert.equal(who.proxyHeader.destAddress, '127.0.0.1', 'the destination the balancer saw is passed on');
      assert.equal(who.proxyHeader.destPort, 80);
      // HTTP to the same pool carries the header too.
      assert.equal(JSON.parse(await httpVia(port, v1('203.0.113.78', 52000))).proxyHeader.sourceAddress, '203.0.113.78');
    } finally { node.destroy(); await b.close(); }
  }
});

test('PROXY header in front of TLS, sent alone or in one write with the ClientHello', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], listener: { proxyProtocol: true, tls: { selfSigned: true } } })));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  for (const coalesce of [false, true]) {
    const header = v2(coalesce ? '203.0.113.201' : '203.0.113.200');
    const ws = await new Promise<WebSocket>((resolve, reject) => {
      const w = new WebSocket(`wss://127.0.0.1:${port}/`, {
        createConnection: () => {
          const raw = connect(port, '127.0.0.1');
          if (!coalesce) { raw.write(header); return tlsConnect({ socket: raw, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }); }
          // The header and the TLS ClientHello leave in one write, as from an L4 balancer that forwards at once.
          let first = true;
          const joined = new Duplex({
            write(chunk, _enc, cb) { raw.write(first ? Buffer.concat([header, chunk]) : chunk, cb); first = false; },
            read() {},
            final(cb) { raw.end(); cb(); },
          });
          raw.on('data', (d) => joined.push(d));
          raw.on('end', () => joined.push(null));
          raw.on('error', (e) => joined.destroy(e));
          return tlsConnect({ socket: joined, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
        },
      });
      w.once('open', () => resolve(w));
      w.once('error', reject);
    });
    const who = JSON.parse(await roundTrip(ws, 'whoami'));
    ws.terminate();
    assert.equal(who.headers['x-forwarded-for'], coalesce ? '203.0.113.201' : '203.0.113.200');
    assert.equal(who.headers['x-forwarded-proto'], 'https');
  }
});

test('a PROXY header and request arriving one byte at a time are reassembled', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], listener: { proxyProtocol: true }, limits: { handshakeTimeoutMs: 8000 } })));
  t.after(() => node.destroy());
  const data = v1('198.51.100.99').toString('latin1') + 'GET /drip HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
  const r = await slowExchange(node.portOf('public')!, data, 5, 10000);
  assert.match(r.response, /^HTTP\/1\.1 200/);
  assert.equal(b.seen[0].headers['x-forwarded-for'], '198.51.100.99');
});
