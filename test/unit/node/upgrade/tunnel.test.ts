import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { TunnelRegistry } from '../../../../node/upgrade/tunnel-registry';
import { TimerWheel } from '../../../../node/timer-wheel';
import { localClusterView } from '../../../../shared/cluster-view';
import { silentLogger } from '../../../../shared/logger';
import { connectBackend } from '../../../../node/upgrade/upgrade-handler';
import { acceptFor } from '../../../../node/upgrade/handshake';
import type { Backend } from '../../../../node/pool/backend';
import type { Tunnel } from '../../../../node/upgrade/tunnel';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A backend that answers every request head with a valid 101 and then echoes. */
async function backend101(t: { after(fn: () => void): void }): Promise<Server> {
  const srv = createServer({ allowHalfOpen: true }, (s) => {
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(KEY)}\r\n\r\n`);
      s.pipe(s);
    };
    s.on('data', onData);
    s.on('error', () => s.destroy());
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  t.after(() => srv.close());
  return srv;
}

/** Both ends of a loopback TCP connection: the one a listener accepted, and the client's. */
async function socketPair(t: { after(fn: () => void): void }): Promise<{ accepted: Socket; client: Socket }> {
  const srv = createServer({ allowHalfOpen: true });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  t.after(() => srv.close());
  const client = connect((srv.address() as { port: number }).port, '127.0.0.1');
  const [accepted] = (await once(srv, 'connection')) as [Socket];
  t.after(() => { client.destroy(); accepted.destroy(); });
  return { accepted, client };
}

test('an open tunnel keeps no handshake state: request, held bytes, accept key and response extras are dropped at the 101', async (t) => {
  const srv = await backend101(t);
  const port = (srv.address() as { port: number }).port;
  const { accepted, client } = await socketPair(t);
  const registry = new TunnelRegistry(new TimerWheel(50), localClusterView(), silentLogger());
  const target = { pool: 'p', id: 'b', host: '127.0.0.1', port, tls: false, tunnels: 0, tunnelsTotal: 0 } as unknown as Backend;
  const tunnel: Tunnel = registry.create({
    client: accepted, backend: connectBackend(target), target,
    origin: { listener: 'l', vip: null, clientAddress: '127.0.0.1' }, request: { path: '/', headers: ['Host', 'x', 'Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Key', KEY, 'Sec-WebSocket-Version', '13'] },
    held: Buffer.from('early'), heldBudget: 1024, expectedAccept: acceptFor(KEY), responseExtra: 'Set-Cookie: s=1; Path=/\r\n', sessionKey: null,
    connectTimeoutMs: 2000, headTimeoutMs: 2000, idleTimeoutMs: 0, route: 'r', gate: null, expiresAtMs: 0,
  });
  let got = '';
  client.on('data', (d: Buffer) => { got += d.toString('latin1'); });
  for (let i = 0; i < 200 && !(tunnel.state === 'open' && got.includes('early')); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(tunnel.state, 'open');
  assert.match(got, /^HTTP\/1\.1 101 [^]*Set-Cookie: s=1; Path=\/\r\n/);
  assert.ok(got.endsWith('early'), 'the held bytes reached the backend (echoed back)');
  assert.equal(tunnel.reader, null);
  assert.equal(tunnel.relay, null);
  assert.equal(tunnel.held, null);
  assert.equal(tunnel.expectedAccept, '');
  assert.equal(tunnel.responseExtra, '');
  tunnel.destroy();
  assert.equal(registry.size, 0);
});
