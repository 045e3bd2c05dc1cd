/** Peer link: a killed process is confirmed dead at once; a live peer that drops the link is not. Real sockets, a real child process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PeerMesh, type PeerDeath } from '../../../../cluster/peer/peer-mesh';
import { PeerServer } from '../../../../cluster/peer/peer-server';
import { freePort, sleep, waitFor } from '../../../harness/ports';
import { silentLogger } from '../../../../shared/logger';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

const CHILD = "const s=require('net').createServer(()=>{}); s.listen(0,'127.0.0.1',()=>process.stdout.write(s.address().port+'\\n')); setInterval(()=>{},1000);";

test('SIGKILL of a peer process: link closed + connect refused -> dead within milliseconds', async (t) => {
  const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(chunk.toString().trim());
  const mesh = new PeerMesh('me', 200, silentLogger());
  t.after(() => mesh.close());
  const deaths: PeerDeath[] = [];
  mesh.on('dead', (d: PeerDeath) => deaths.push(d));
  mesh.update([{ id: 'p', peer: `127.0.0.1:${port}`, startedAt: 1 }]);
  await waitFor(() => mesh.connected().includes('p'), 'link up', 3000);
  const killedAt = performance.now();
  child.kill('SIGKILL');
  await waitFor(() => deaths.length > 0, 'dead', 3000, 1);
  const seenAfter = performance.now() - killedAt;
  console.log(`# peer death seen ${seenAfter.toFixed(1)} ms after SIGKILL (${deaths[0]!.how}, detect ${deaths[0]!.detectMs.toFixed(2)} ms)`);
  assert.equal(deaths[0]!.id, 'p');
  assert.ok(seenAfter < 1000);
  await sleep(300);
  assert.equal(deaths.length, 1, 'once per incarnation');
});

test('a live peer that drops the link is not declared dead; the link comes back', async (t) => {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => { for (const s of sockets) s.destroy(); srv.close(); });
  const port = (srv.address() as AddressInfo).port;
  const mesh = new PeerMesh('me', 200, silentLogger());
  t.after(() => mesh.close());
  let deaths = 0;
  mesh.on('dead', () => deaths++);
  mesh.update([{ id: 'p', peer: `127.0.0.1:${port}`, startedAt: 1 }]);
  await waitFor(() => sockets.size === 1 && mesh.connected().includes('p'), 'link up', 3000);
  const first = [...sockets][0]!;
  first.destroy(); // the far side drops the link but keeps listening
  await waitFor(() => sockets.size === 1 && !sockets.has(first) && mesh.connected().includes('p'), 'link re-made', 3000);
  assert.equal(deaths, 0);
});

test('the peer server answers a state line and ignores oversized input', async (t) => {
  const server = new PeerServer(() => ({ hello: 1 }), silentLogger());
  const addr = await server.listen('127.0.0.1:0');
  t.after(() => server.close());
  const port = Number(addr.split(':')[1]);
  const probe = createConnection({ host: '127.0.0.1', port });
  t.after(() => probe.destroy());
  await once(probe, 'connect');
  probe.write('noise\nstate\n');
  const [line] = (await once(probe, 'data')) as [Buffer];
  assert.deepEqual(JSON.parse(line.toString()), { hello: 1 });
  probe.write('x'.repeat(1000));
  await once(probe, 'close');
});

test('a listed peer whose port refuses is dead (connect-refused); a restarted peer gets a new link', async (t) => {
  const port = await freePort();
  const mesh = new PeerMesh('me', 200, silentLogger());
  t.after(() => mesh.close());
  const deaths: PeerDeath[] = [];
  mesh.on('dead', (d: PeerDeath) => deaths.push(d));
  mesh.update([{ id: 'p', peer: `127.0.0.1:${port}`, startedAt: 1 }, { id: 'me', peer: '127.0.0.1:1', startedAt: 1 }]);
  await waitFor(() => deaths.length > 0, 'dead', 3000);
  assert.equal(deaths[0]!.how, 'connect-refused');
  const server = new PeerServer(() => ({}), silentLogger());
  const addr = await server.listen('127.0.0.1:0');
  t.after(() => server.close());
  mesh.update([{ id: 'p', peer: addr, startedAt: 2 }]);
  await waitFor(() => mesh.connected().includes('p'), 'new link to the restarted peer', 3000);
  assert.equal(deaths.length, 1);
});
