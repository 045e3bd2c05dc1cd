/**
 * deploy/systemd/wsha.service is a unit systemd accepts, whose commands are
 * real wsha commands, with enough descriptors for the example configs and
 * exactly the capabilities the linux VIP driver needs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runWsha, REPO_ROOT } from '../harness/wsha-cli';

const SYSTEMD = join(REPO_ROOT, 'deploy', 'systemd');
const unitText = readFileSync(join(SYSTEMD, 'wsha.service'), 'utf8');

/** `Key=value` lines of the unit (last one wins, as in systemd). */
function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1], [...(out.get(m[1]) ?? []), m[2]]);
  }
  return out;
}
const unit = directives(unitText);
const one = (k: string) => unit.get(k)?.at(-1) ?? '';

/** `wsha ...` arguments of an Exec line that runs the CLI, with ${WSHA_CONFIG} as given. */
function cliArgs(line: string, config: string): string[] {
  const words = line.replace(/^-/, '').split(/\s+/);
  const at = words.findIndex((w) => w.endsWith('dist/cluster/cli/main.js'));
  assert.ok(at > 0, `not a wsha command: ${line}`);
  return words.slice(at + 1).map((w) => w.replace('${WSHA_CONFIG}', config));
}

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;

test('systemd-analyze verify accepts the unit without a warning', { skip: hasSystemdAnalyze ? false : 'systemd-analyze is not installed' }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Node may live elsewhere on this machine than on a server (/usr/bin/node).
  const file = join(dir, 'wsha.service');
  writeFileSync(file, unitText.replaceAll('/usr/bin/node ', `${process.execPath} `));
  const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', r.stderr);
});

test('every wsha command of the unit exists in the CLI, with the options the unit passes', async () => {
  const lines = ['ExecStartPre', 'ExecStart', 'ExecStopPost'].flatMap((k) => unit.get(k) ?? []);
  assert.equal(lines.length, 3);
  for (const line of lines) {
    const args = cliArgs(line, '/etc/wsha/wsha.yaml');
    const words = args.filter((a) => !a.startsWith('-') && !a.startsWith('/'));
    const help = await runWsha([...words, '--help']);
    assert.equal(help.code, 0, `wsha ${words.join(' ')} --help: ${help.stderr}`);
    // commander answers --help of an unknown command with the top-level help: insist on the command's own.
    assert.ok(help.stdout.startsWith(`Usage: wsha ${words.join(' ')} `), `wsha ${words.join(' ')} is not a command:\n${help.stdout.split('\n')[0]}`);
    for (const opt of args.filter((a) => a.startsWith('--'))) assert.ok(help.stdout.includes(opt), `wsha ${words.join(' ')} has no ${opt}`);
  }
});

test('ExecStartPre rejects a bad config (the unit does not start) and accepts a good one', async () => {
  const check = cliArgs(one('ExecStartPre'), join(REPO_ROOT, 'deploy', 'examples', 'pair-a.yaml'));
  assert.equal((await runWsha(check)).code, 0);
  const bad = cliArgs(one('ExecStartPre'), join(REPO_ROOT, 'deploy', 'systemd', 'wsha.env'));
  assert.equal((await runWsha(bad)).code, 2);
});

test('the stop clean-up runs whatever the exit, and does not mask the result', () => {
  assert.match(one('ExecStopPost'), /^-/);
  assert.match(one('ExecStopPost'), / vip cleanup --config /);
  assert.equal(one('Restart'), 'on-failure');
  assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
  assert.equal(one('RestartPreventExitStatus'), '2', 'exit 2 (invalid config) is not retried');
});

test('LimitNOFILE covers two descriptors per client connection of every example config', () => {
  const limit = Number(one('LimitNOFILE'));
  const examples = join(REPO_ROOT, 'deploy', 'examples');
  const maxes = readdirSync(examples).filter((f) => f.endsWith('.yaml'))
    .map((f) => parse(readFileSync(join(examples, f), 'utf8'))?.limits?.maxConnections ?? 10000);
  for (const max of maxes) assert.ok(limit >= 2 * max + 1024, `LimitNOFILE ${limit} < 2 x ${max} + 1024`);
});

test('capabilities: what the linux driver, low ports and the control plane\'s priority need, nothing more', () => {
  const want = ['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SYS_NICE'];
  assert.deepEqual(one('AmbientCapabilities').split(/\s+/).sort(), want);
  assert.deepEqual(one('CapabilityBoundingSet').split(/\s+/).sort(), want);
  assert.equal(one('NoNewPrivileges'), 'yes');
  assert.notEqual(one('User'), 'root');
  assert.equal(one('EnvironmentFile'), '/etc/wsha/wsha.env');
  const env = readFileSync(join(SYSTEMD, 'wsha.env'), 'utf8');
  for (const k of ['WSHA_CONFIG', 'WSHA_REDIS_PASSWORD', 'WSHA_ADMIN_TOKEN']) assert.match(env, new RegExp(`^${k}=`, 'm'));
  // The shell script of the env file must at least parse (systemd reads it line by line).
  execFileSync('sh', ['-n', join(SYSTEMD, 'wsha.env')]);
});
