import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { loadTlsMaterial, sniCallback, lookupContext, type TlsMaterial } from '../../../node/tls/secure-contexts';
import { writeCertificate } from '../../../shared/tls/cert-files';
import { ConfigError } from '../../../shared/errors';
import type { ListenerConfig } from '../../../shared/config/schema';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function listener(certs: Array<{ cert: string; key: string; serverNames?: string[] }> | undefined, selfSigned = false): ListenerConfig {
  return { name: 'public', on: '127.0.0.1', port: 0, proxyProtocol: false, tls: { selfSigned, ...(certs ? { certs } : {}) } };
}

/** Starts a TLS server whose SNI callback reads `material()`, and returns its port. */
async function serve(t: { after: (fn: () => void) => void }, material: () => TlsMaterial): Promise<number> {
  const srv = tls.createServer({ ...material().defaultPem, SNICallback: sniCallback(material) }, (s) => s.end());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => srv.close());
  return (srv.address() as AddressInfo).port;
}

/** CN of the certificate the server presents for `servername` (none: no SNI). */
function peerCn(port: number, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername ? { servername } : {}) }, () => {
      const cn = s.getPeerCertificate().subject.CN;
      s.destroy();
      resolve(String(Array.isArray(cn) ? cn[0] : cn));
    });
    s.on('error', reject);
    s.setTimeout(10000, () => { s.destroy(); reject(new Error('tls connect timed out')); });
  });
}

test('SNI picks the exact certificate, then the wildcard, then the first certificate, over real TLS', async (t) => {
  const dir = tmp(t);
  const a = writeCertificate(join(dir, 'a'), { commonName: 'default-cert', altNames: ['default.test'] });
  const b = writeCertificate(join(dir, 'b'), { commonName: 'api-cert', altNames: ['api.example.com'] });
  const c = writeCertificate(join(dir, 'c'), { commonName: 'wild-cert', altNames: ['*.example.com'] });
  const material = loadTlsMaterial(listener([a, b, c].map((p) => ({ cert: p.certPath, key: p.keyPath }))), 0, { nodeId: 'n1' });
  assert.deepEqual([...material.contexts.keys()].sort(), ['*.example.com', 'api.example.com', 'default.test']);
  assert.deepEqual(material.certificates.map((c) => [c.subject, c.names]), [['CN=default-cert', ['default.test']], ['CN=api-cert', ['api.example.com']], ['CN=wild-cert', ['*.example.com']]]);
  const days = (material.certificates[0]!.notAfter.getTime() - Date.now()) / 86400000;
  assert.ok(days > 364 && days <= 365, `notAfter ${days} days ahead`);
  assert.match(material.certificates[1]!.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const port = await serve(t, () => material);
  assert.equal(await peerCn(port, 'api.example.com'), 'api-cert');
  assert.equal(await peerCn(port, 'API.Example.COM'), 'api-cert');
  assert.equal(lookupContext(material, 'api.example.com.'), material.contexts.get('api.example.com'));
  assert.equal(await peerCn(port, 'www.example.com'), 'wild-cert');
  assert.equal(await peerCn(port, 'a.b.example.com'), 'default-cert'); // wildcard covers one label only
  assert.equal(await peerCn(port, 'example.com'), 'default-cert');
  assert.equal(await peerCn(port, 'other.test'), 'default-cert');
  assert.equal(await peerCn(port), 'default-cert');
});

test('serverNames overrides the names read from the certificate', (t) => {
  const dir = tmp(t);
  const p = writeCertificate(dir, { commonName: 'x', altNames: ['x.test'] });
  const m = loadTlsMaterial(listener([{ cert: p.certPath, key: p.keyPath, serverNames: ['Chat.Example.ORG', '*.live.test'] }]), 0, { nodeId: 'n1' });
  assert.deepEqual([...m.contexts.keys()].sort(), ['*.live.test', 'chat.example.org']);
  assert.equal(lookupContext(m, 'a.live.test'), m.contexts.get('*.live.test'));
});

test('a reload swaps certificates for new handshakes through the same callback', async (t) => {
  const dir = tmp(t);
  const one = writeCertificate(join(dir, '1'), { commonName: 'before', altNames: ['app.test'] });
  const two = writeCertificate(join(dir, '2'), { commonName: 'after', altNames: ['app.test'] });
  let current = loadTlsMaterial(listener([{ cert: one.certPath, key: one.keyPath }]), 0, { nodeId: 'n' });
  const port = await serve(t, () => current);
  assert.equal(await peerCn(port, 'app.test'), 'before');
  current = loadTlsMaterial(listener([{ cert: two.certPath, key: two.keyPath }]), 0, { nodeId: 'n' });
  assert.equal(await peerCn(port, 'app.test'), 'after');
});

test('a key that does not match its certificate gives ConfigError naming the key', (t) => {
  const dir = tmp(t);
  const a = writeCertificate(join(dir, 'a'), { commonName: 'a', altNames: ['a.test'] });
  const b = writeCertificate(join(dir, 'b'), { commonName: 'b', altNames: ['b.test'] });
  const bad = listener([{ cert: a.certPath, key: a.keyPath }, { cert: b.certPath, key: a.keyPath }]);
  assert.throws(() => loadTlsMaterial(bad, 3, { nodeId: 'n' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'WSHA_ERR_CONFIG');
    assert.equal(err.problems.length, 1);
    assert.match(err.problems[0]!, /^listeners\[3\]\.tls\.certs\[1\]\.key: .*does not match/);
    return true;
  });
});

test('unreadable and non-PEM files give ConfigError naming every bad key at once', (t) => {
  const dir = tmp(t);
  const ok = writeCertificate(dir, { commonName: 'a', altNames: ['a.test'] });
  const garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, 'this is not PEM\n');
  const bad = listener([
    { cert: join(dir, 'missing.pem'), key: ok.keyPath },
    { cert: garbage, key: ok.keyPath },
    { cert: ok.certPath, key: garbage },
    { cert: ok.certPath, key: readFileSync(ok.keyPath, 'utf8') }, // PEM text where a path belongs
  ]);
  assert.throws(() => loadTlsMaterial(bad, 0, { nodeId: 'n' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    const keys = err.problems.map((p) => p.split(':')[0]);
    assert.deepEqual(keys, ['listeners[0].tls.certs[0].cert', 'listeners[0].tls.certs[1].cert', 'listeners[0].tls.certs[2].key', 'listeners[0].tls.certs[3].key']);
    assert.match(err.problems[0]!, /ENOENT/);
    return true;
  });
});

test('selfSigned generates a certificate for the node with localhost, loopback and the listener address', async (t) => {
  const l: ListenerConfig = { name: 'p', on: '127.0.0.9', port: 0, proxyProtocol: false, tls: { selfSigned: true } };
  const m = loadTlsMaterial(l, 0, { nodeId: 'proxy-a', vipAddress: '127.0.0.100' });
  const x = new (await import('node:crypto')).X509Certificate(m.defaultPem.cert);
  assert.equal(x.subject, 'CN=proxy-a');
  for (const san of ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:127.0.0.9', 'IP Address:127.0.0.100']) {
    assert.ok(x.subjectAltName!.split(', ').includes(san), `${san} in ${x.subjectAltName}`);
  }
  const port = await serve(t, () => m);
  assert.equal(await peerCn(port, 'localhost'), 'proxy-a');
  // The generated cert verifies for 127.0.0.1 when trusted as its own CA.
  await new Promise<void>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: m.defaultPem.cert }, () => { s.destroy(); resolve(); });
    s.on('error', reject);
  });
});

test('a reload of a selfSigned listener keeps its certificate; other SANs get another one', () => {
  const l: ListenerConfig = { name: 'p', on: '127.0.0.1', port: 0, proxyProtocol: false, tls: { selfSigned: true } };
  const first = loadTlsMaterial(l, 0, { nodeId: 'reload-node' });
  const again = loadTlsMaterial(l, 0, { nodeId: 'reload-node' });
  assert.equal(again.defaultPem.cert, first.defaultPem.cert);
  const other = loadTlsMaterial({ ...l, on: '127.0.0.2' }, 0, { nodeId: 'reload-node' });
  assert.notEqual(other.defaultPem.cert, first.defaultPem.cert);
});

test('a TLS listener with neither certs nor selfSigned is a ConfigError', () => {
  assert.throws(() => loadTlsMaterial(listener(undefined, false), 2, { nodeId: 'n' }), (err: unknown) =>
    err instanceof ConfigError && /^listeners\[2\]\.tls: /.test(err.problems[0]!));
});
