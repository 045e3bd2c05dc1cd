import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, readFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';

const CLI = join(__dirname, '..', '..', 'cluster', 'cli', 'main.js');

function wsha(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same run without blocking, so that independent runs can go at the same time. */
function wshaAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-cert-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('cert generate writes a certificate with the requested CN and SANs, and a matching 0600 key', (t) => {
  const out = join(tmp(t), 'certs');
  const r = wsha(['cert', 'generate', '--cn', 'chat.example.com', '--san', '*.chat.example.com', '--san', '127.0.0.1', '--san', '::1', '--out', out, '--days', '10']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*cert\.pem/);
  const x = new X509Certificate(readFileSync(join(out, 'cert.pem')));
  assert.equal(x.subject, 'CN=chat.example.com');
  assert.equal(x.subjectAltName, 'DNS:chat.example.com, DNS:*.chat.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  assert.ok(x.checkPrivateKey(createPrivateKey(readFileSync(join(out, 'key.pem')))));
  assert.equal(statSync(join(out, 'key.pem')).mode & 0o777, 0o600);
  const days = (Date.parse(x.validTo) - Date.now()) / 86400000;
  assert.ok(days > 9 && days <= 10, `validity ${days} days`);
});

test('the generated files serve real TLS that a client trusting the cert verifies for a SAN name', async (t) => {
  const out = tmp(t);
  assert.equal(wsha(['cert', 'generate', '--cn', 'svc', '--san', 'svc.test', '--out', out]).code, 0);
  const cert = readFileSync(join(out, 'cert.pem'), 'utf8');
  const srv = tls.createServer({ cert, key: readFileSync(join(out, 'key.pem')) }, (s) => s.end('hi'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => srv.close());
  const { port } = srv.address() as AddressInfo;
  const got = await new Promise<string>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'svc.test', ca: cert }, () => s.once('data', (d) => { s.destroy(); resolve(String(d)); }));
    s.on('error', reject);
  });
  assert.equal(got, 'hi');
  // A name that is not among the SANs fails verification.
  await assert.rejects(new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'other.test', ca: cert }, () => { s.destroy(); resolve(null); });
    s.on('error', reject);
  }), /ERR_TLS_CERT_ALTNAME_INVALID|does not match/);
});

test('existing files are kept unless --force, with exit 1; --force replaces them', (t) => {
  const out = tmp(t);
  assert.equal(wsha(['cert', 'generate', '--cn', 'one.test', '--out', out]).code, 0);
  const before = readFileSync(join(out, 'cert.pem'), 'utf8');
  const again = wsha(['cert', 'generate', '--cn', 'two.test', '--out', out]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists.*--force/);
  assert.equal(readFileSync(join(out, 'cert.pem'), 'utf8'), before);
  const forced = wsha(['cert', 'generate', '--cn', 'two.test', '--out', out, '--force', '--json']);
  assert.equal(forced.code, 0, forced.stderr);
  const doc = JSON.parse(forced.stdout);
  assert.equal(doc.ok, true);
  assert.deepEqual(doc.altNames, ['two.test']);
  assert.equal(new X509Certificate(readFileSync(join(out, 'cert.pem'))).subject, 'CN=two.test');
});

test('bad arguments exit 2 with a clear message and write nothing', async (t) => {
  const out = join(tmp(t), 'never');
  const cases: Array<[string[], RegExp]> = [
    [['--out', out], /required option '--cn/],
    [['--cn', 'x'], /required option '--out/],
    [['--cn', 'x', '--out', out, '--san', 'not a name'], /--san.*expected a DNS name/],
    [['--cn', 'x', '--out', out, '--days', '0'], /--days.*expected a whole number/],
    [['--cn', 'x', '--out', out, '--days', 'ten'], /--days/],
    [['--cn', ' ', '--out', out], /--cn must not be empty/],
  ];
  const runs = await Promise.all(cases.map(([args]) => wshaAsync(['cert', 'generate', ...args])));
  for (const [i, [args, msg]] of cases.entries()) {
    const r = runs[i]!;
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
  assert.equal(existsSync(out), false);
});

test('--help shows an example and the exit codes', () => {
  const r = wsha(['cert', 'generate', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Example:\n\s+wsha cert generate --cn/);
  assert.match(r.stdout, /Exit codes:/);
});
