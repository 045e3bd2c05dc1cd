import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSelfSigned } from '../../../../shared/tls/self-signed';
import { writeCertificate, CertFileExistsError } from '../../../../shared/tls/cert-files';

test('generateSelfSigned makes an RSA 2048 server cert with DNS and IP SANs that matches its key', () => {
  const p = generateSelfSigned({ commonName: 'edge-1', altNames: ['edge.example.com', '10.0.0.5', '[2001:db8::7]', 'edge.example.com'], days: 30 });
  const x = new X509Certificate(p.certPem);
  assert.equal(x.subject, 'CN=edge-1');
  assert.equal(x.issuer, 'CN=edge-1');
  assert.equal(x.subjectAltName, 'DNS:edge.example.com, IP Address:10.0.0.5, IP Address:2001:DB8:0:0:0:0:0:7');
  const key = createPrivateKey(p.keyPem);
  assert.equal(key.asymmetricKeyType, 'rsa');
  assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
  assert.ok(x.checkPrivateKey(key));
  assert.ok(x.verify(x.publicKey), 'self-signature verifies');
  const lifeDays = (Date.parse(x.validTo) - Date.now()) / 86400000;
  assert.ok(lifeDays > 29 && lifeDays <= 30, `valid for ${lifeDays} days`);
  assert.ok(Date.parse(x.validFrom) < Date.now());
  assert.throws(() => generateSelfSigned({ commonName: 'x', altNames: [], days: 0 }), RangeError);
});

test('two certificates get different serial numbers and keys', () => {
  const a = new X509Certificate(generateSelfSigned({ commonName: 'a', altNames: ['a'] }).certPem);
  const b = new X509Certificate(generateSelfSigned({ commonName: 'a', altNames: ['a'] }).certPem);
  assert.notEqual(a.serialNumber, b.serialNumber);
  assert.notEqual(a.fingerprint256, b.fingerprint256);
});

test('writeCertificate writes cert.pem and a 0600 key.pem, and refuses to overwrite unless forced', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-certfiles-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'nested', 'certs');
  const p = writeCertificate(out, { commonName: 'app', altNames: ['app.test'] });
  assert.equal(p.certPath, join(out, 'cert.pem'));
  assert.equal(p.keyPath, join(out, 'key.pem'));
  assert.equal(statSync(p.keyPath).mode & 0o777, 0o600);
  const first = readFileSync(p.certPath, 'utf8');
  assert.throws(() => writeCertificate(out, { commonName: 'app', altNames: [] }), (e: unknown) => e instanceof CertFileExistsError && e.path === p.certPath);
  assert.equal(readFileSync(p.certPath, 'utf8'), first, 'refusal leaves files untouched');
  // Only the key existing is also refused, before anything is written.
  rmSync(p.certPath);
  assert.throws(() => writeCertificate(out, { commonName: 'app', altNames: [] }), CertFileExistsError);
  assert.equal(existsSync(p.certPath), false);
  writeFileSync(p.keyPath, 'old', { mode: 0o644 });
  writeCertificate(out, { commonName: 'app2', altNames: ['app2.test'], force: true });
  assert.equal(new X509Certificate(readFileSync(p.certPath)).subject, 'CN=app2');
  assert.equal(statSync(p.keyPath).mode & 0o777, 0o600);
});
