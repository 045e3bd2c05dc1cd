/** The failover sampler's view of listeners is real: a socket this process listens on is found, with its PID, both ways. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { listeningInodes, listeningPids, pidOfInode } from '../../../harness/ownership-sampler';

const ADDR = '127.0.0.72';

test('listeners on an address:port are found with their PID (ss and /proc/net/tcp)', async (t) => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, ADDR, r));
  t.after(() => srv.close());
  const port = (srv.address() as AddressInfo).port;
  const inodes = listeningInodes(ADDR, port, readFileSync('/proc/net/tcp', 'latin1'));
  assert.equal(inodes.length, 1);
  assert.equal(pidOfInode(inodes[0]!, [process.pid]), process.pid);
  assert.deepEqual(listeningInodes(ADDR, port + 1 > 65535 ? 1 : port + 1, readFileSync('/proc/net/tcp', 'latin1')), []);
  let ss = '';
  try { ss = execFileSync('ss', ['-Hltnp', `src ${ADDR}:${port}`], { encoding: 'utf8' }); } catch { t.diagnostic('ss not installed: /proc/net/tcp only'); return; }
  assert.deepEqual(listeningPids(ss), [process.pid]);
  srv.close();
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(listeningPids(execFileSync('ss', ['-Hltnp', `src ${ADDR}:${port}`], { encoding: 'utf8' })), []);
});
