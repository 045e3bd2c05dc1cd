/**
 * Every example config under deploy/ passes `wsha config check` (the real
 * CLI, as a child process), and the examples say what they claim: the pair
 * differs only in what is per node, the exec example's scripts exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { parse } from 'yaml';
import { configCheck, REPO_ROOT } from '../harness/wsha-cli';

const DEPLOY = join(REPO_ROOT, 'deploy');

/** Every YAML file under deploy/ whose top level looks like a wsha config. */
function wshaConfigs(dir = DEPLOY): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...wshaConfigs(p));
    else if (/\.ya?ml$/.test(e.name)) {
      const doc = parse(readFileSync(p, 'utf8'));
      if (doc && typeof doc === 'object' && 'cluster' in doc && 'node' in doc) out.push(p);
    }
  }
  return out.sort();
}

const readYaml = (name: string) => parse(readFileSync(join(DEPLOY, 'examples', name), 'utf8'));

test('deploy/ holds the promised example configs', () => {
  const names = wshaConfigs().map((p) => relative(DEPLOY, p));
  for (const want of ['examples/pair-a.yaml', 'examples/pair-b.yaml', 'examples/floating-ip.yaml', 'examples/sentinel.yaml', 'compose/proxy-a.yaml', 'compose/proxy-b.yaml']) {
    assert.ok(names.includes(want), `missing deploy/${want} (found: ${names.join(', ')})`);
  }
});

test('every example config under deploy/ passes wsha config check, without warnings about what the file says', async () => {
  const failed: string[] = [];
  for (const file of wshaConfigs()) {
    const r = await configCheck(file);
    if (r.code !== 0 || r.json?.ok !== true) failed.push(`${relative(REPO_ROOT, file)}: exit ${r.code} ${r.stdout}${r.stderr}`);
    // Only the cluster secret may be warned about: its file lives on the target host (or comes from the environment).
    for (const w of r.json?.warnings ?? []) if (!w.startsWith('cluster.secretFile:')) failed.push(`${relative(REPO_ROOT, file)}: warning ${w}`);
  }
  assert.deepEqual(failed, []);
});

test('the check run above can fail: a broken copy of an example exits 2 naming the key', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-deploy-examples-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'pair-a.yaml');
  copyFileSync(join(DEPLOY, 'examples', 'pair-a.yaml'), file);
  writeFileSync(file, readFileSync(file, 'utf8').replace('interface: eth0', 'interfaces: eth0'));
  const r = await configCheck(file);
  assert.equal(r.code, 2);
  assert.ok(r.json?.problems?.some((p) => p.startsWith('vips[0].interfaces: unknown key')), JSON.stringify(r.json));
});

test('the two hosts of the linux pair differ only in what is per node', () => {
  const a = readYaml('pair-a.yaml');
  const b = readYaml('pair-b.yaml');
  assert.equal(a.vips[0].driver, 'linux');
  assert.ok(a.node.priority > b.node.priority, 'proxy-a is the preferred owner');
  assert.notEqual(a.node.id, b.node.id);
  const { node: na, ...restA } = a;
  const { node: nb, ...restB } = b;
  assert.deepEqual(restA, restB, 'cluster, vips, listeners, routes and pools must be identical on both hosts');
  assert.deepEqual(Object.keys(na).sort(), Object.keys(nb).sort());
});

test('the exec example names scripts that exist in deploy/examples/exec and are executable', () => {
  const vip = readYaml('floating-ip.yaml').vips[0];
  assert.equal(vip.driver, 'exec');
  for (const cmd of [vip.up, vip.down]) {
    const script = join(DEPLOY, 'examples', 'exec', basename(cmd));
    accessSync(script, constants.X_OK);
    assert.match(readFileSync(script, 'utf8'), /^#!\/bin\/sh\n/);
  }
});
