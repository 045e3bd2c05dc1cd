/**
 * Issue 10: `wsha cert generate --force` followed a symlink at the key path
 * and wrote the key into the file it pointed to before the chmod. Now each
 * file goes through a temporary file in the target folder that is renamed
 * into place: the symlink is replaced, its target untouched, the key is
 * 0600 even under umask 000, and nothing is left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(__dirname, '..', '..', 'cluster', 'cli', 'main.js');

/** Runs the CLI under `umask 000`, the worst case for a key file's mode. */
function wsha(args: string[]) {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('/bin/sh', ['-c', `umask 000; exec ${quoted}`], { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function setup(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-issue10-cert-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'certs');
  mkdirSync(out);
  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'precious\n', { mode: 0o644 });
  return { dir, out, victim };
}

test('--force with key.pem a symlink: the link is replaced, the file it pointed to is untouched, the key is 0600', (t) => {
  const s = setup(t);
  symlinkSync(s.victim, join(s.out, 'key.pem'));
  symlinkSync(s.victim, join(s.out, 'cert.pem'));
  const r = wsha(['cert', 'generate', '--cn', 'svc.test', '--out', s.out, '--force']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(s.victim, 'utf8'), 'precious\n');
  assert.equal(statSync(s.victim).mode & 0o777, 0o644);
  for (const f of ['key.pem', 'cert.pem']) assert.equal(lstatSync(join(s.out, f)).isSymbolicLink(), false, `${f} is still a symlink`);
  assert.equal(statSync(join(s.out, 'key.pem')).mode & 0o777, 0o600);
  assert.equal(statSync(join(s.out, 'cert.pem')).mode & 0o777, 0o644);
  const x = new X509Certificate(readFileSync(join(s.out, 'cert.pem')));
  assert.ok(x.checkPrivateKey(createPrivateKey(readFileSync(join(s.out, 'key.pem')))));
  assert.deepEqual(readdirSync(s.out).sort(), ['cert.pem', 'key.pem'], 'no temporary file left');
});

test('without --force a symlink at the key path, even a dangling one, is refused and nothing is written', (t) => {
  const s = setup(t);
  const target = join(s.dir, 'created-through-link');
  symlinkSync(target, join(s.out, 'key.pem'));
  const r = wsha(['cert', 'generate', '--cn', 'svc.test', '--out', s.out]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /already exists/);
  assert.equal(existsSync(target), false, 'nothing was written through the link');
  assert.deepEqual(readdirSync(s.out), ['key.pem']);
});

test('a fresh folder under umask 000 still gets a 0600 key', (t) => {
  const s = setup(t);
  const out = join(s.dir, 'new');
  const r = wsha(['cert', 'generate', '--cn', 'svc.test', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(join(out, 'key.pem')).mode & 0o777, 0o600);
});
