/**
 * docker-compose.yml and deploy/Dockerfile checked without a Docker engine:
 * every mounted file exists and every mounted config passes `wsha config
 * check`; both proxies name the same VIP and Redis; ports line up (published
 * port -> forwarder -> VIP:listener port, healthchecks -> admin listeners,
 * Redis URL -> the redis service, backend URLs -> backend services); the
 * forwarder (deploy/compose/vip-forward.js) is run for real on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, connect, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../shared/config/load';
import type { Config } from '../../shared/config/schema';
import { freePort, waitFor } from '../harness/ports';
import { configCheck, REPO_ROOT } from '../harness/wsha-cli';
import { loadClusterSecret } from '../../cluster/peer/peer-secret';
import { CONTROL_EXEC_ARGV } from '../../shared/control-flags';

type Service = Record<string, any>;
const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service>; networks: Record<string, any> };
const services = compose.services;
const PROXIES = ['proxy-a', 'proxy-b'];
const CONFIG_IN_CONTAINER = '/etc/wsha/wsha.yaml';

/** `./host/path:/container/path[:ro]` mounts of a service, resolved against the repo. */
function mounts(svc: Service): Array<{ source: string; target: string }> {
  return (svc.volumes ?? []).map((v: string) => {
    const [source, target] = v.split(':');
    return { source: resolve(REPO_ROOT, source), target };
  });
}

function configOf(name: string): Config {
  const m = mounts(services[name]).find((x) => x.target === CONFIG_IN_CONTAINER);
  assert.ok(m, `${name} mounts no config at ${CONFIG_IN_CONTAINER}`);
  return loadConfig(m.source, {});
}

/** The fixed address of a service on the compose network. */
const fixedAddress = (svc: Service): string => Object.values(svc.networks ?? {}).map((n: any) => n?.ipv4_address).find(Boolean);
const hostPort = (s: string) => { const i = s.lastIndexOf(':'); return { host: s.slice(0, i), port: Number(s.slice(i + 1)) }; };
const argAfter = (cmd: string[], flag: string) => cmd[cmd.indexOf(flag) + 1];
const ipv4ToInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const inCidr = (ip: string, cidr: string) => { const [base, len] = cidr.split('/'); const size = 2 ** (32 - Number(len)); return Math.floor(ipv4ToInt(ip) / size) === Math.floor(ipv4ToInt(base) / size); };

test('the stack has redis, two proxies, two backends and the VIP forwarder, each with a healthcheck', () => {
  for (const name of ['redis', 'proxy-a', 'proxy-b', 'backend-1', 'backend-2', 'vip']) {
    assert.ok(services[name], `service ${name} missing`);
    assert.ok(Array.isArray(services[name].healthcheck?.test), `service ${name} has no healthcheck`);
  }
});

test('every service of the wsha image pins linux/amd64 (the lock file has only x86-64 native builds)', () => {
  const ours = Object.entries(services).filter(([, s]) => s.image === 'wsha:local');
  assert.equal(ours.length, 5);
  for (const [name, s] of ours) assert.equal(s.platform, 'linux/amd64', name);
});

test('every mounted file exists and every mounted config passes wsha config check', async () => {
  let configs = 0;
  for (const [name, svc] of Object.entries(services)) {
    for (const m of mounts(svc)) {
      assert.ok(existsSync(m.source), `${name} mounts ${m.source}, which does not exist`);
      if (!/\.ya?ml$/.test(m.source)) continue;
      const r = await configCheck(m.source);
      assert.equal(r.code, 0, `${name}: wsha config check ${m.source}: ${r.stdout}${r.stderr}`);
      configs++;
    }
  }
  assert.equal(configs, 2, 'one config per proxy');
});

test('both proxies share cluster, VIP and Redis; proxy-a (150) is preferred over proxy-b (100)', () => {
  const [a, b] = PROXIES.map(configOf);
  assert.equal(a.cluster.name, b.cluster.name);
  assert.deepEqual(a.cluster.redis, b.cluster.redis);
  assert.deepEqual(a.vips, b.vips);
  assert.equal(a.vips.length, 1);
  assert.deepEqual(a.listeners, b.listeners);
  assert.deepEqual(a.pools, b.pools);
  assert.equal(a.node.id, 'proxy-a');
  assert.equal(b.node.id, 'proxy-b');
  assert.equal(a.node.priority, 150);
  assert.equal(b.node.priority, 100);
});

test('the linux VIP driver has what it needs: NET_ADMIN/NET_RAW, eth0, a VIP no container can be given', () => {
  const net = Object.values(compose.networks)[0].ipam.config[0];
  for (const name of PROXIES) {
    const vip = configOf(name).vips[0];
    assert.equal(vip.driver, 'linux');
    assert.equal(vip.interface, 'eth0');
    assert.ok(services[name].cap_add.includes('NET_ADMIN') && services[name].cap_add.includes('NET_RAW'), `${name} lacks cap_add NET_ADMIN/NET_RAW`);
    assert.ok(inCidr(vip.address, net.subnet), `VIP ${vip.address} outside ${net.subnet}`);
    assert.ok(!inCidr(vip.address, net.ip_range), `VIP ${vip.address} inside the dynamic range ${net.ip_range}`);
  }
  const vip = configOf('proxy-a').vips[0].address;
  const taken = Object.entries(services).map(([n, s]) => [n, fixedAddress(s)]).filter(([, ip]) => ip);
  assert.equal(taken.length, Object.keys(services).length, 'every service has a fixed address');
  assert.ok(taken.every(([, ip]) => ip !== vip && inCidr(ip, net.subnet)), JSON.stringify(taken));
});

test('each proxy advertises and listens on its own container address', () => {
  for (const name of PROXIES) {
    const c = configOf(name);
    const ip = fixedAddress(services[name]);
    assert.equal(c.node.address, ip);
    assert.equal(hostPort(c.node.admin.listen).host, ip);
    assert.equal(hostPort(c.node.peer.listen).host, ip);
  }
});

test('ports line up: host port -> forwarder -> VIP:listener port', () => {
  const c = configOf('proxy-a');
  const vip = c.vips[0];
  const listener = c.listeners.find((l) => l.on === `vip:${vip.name}`);
  assert.ok(listener, 'no listener on the VIP');
  const fwd = services.vip;
  const [published, inside] = fwd.ports[0].split(':').slice(-2).map(Number);
  assert.ok(published > 0);
  assert.equal(Number(fwd.command[0]), inside, 'forwarder listens on the published container port');
  assert.equal(fwd.command[1], `${vip.address}:${listener.port}`, 'forwarder targets the VIP listener');
  assert.ok(fwd.healthcheck.test.includes(`${vip.address}:${listener.port}`), 'forwarder healthcheck probes the VIP listener');
  assert.ok(mounts(fwd).some((m) => m.source.endsWith('vip-forward.js') && fwd.entrypoint.includes(m.target)));
});

test('ports line up: healthchecks and published admin ports -> admin listeners', () => {
  for (const name of PROXIES) {
    const admin = hostPort(configOf(name).node.admin.listen);
    const probe = services[name].healthcheck.test.join(' ');
    assert.ok(probe.includes(`http://${admin.host}:${admin.port}/healthz`), `${name} healthcheck ${probe} does not probe ${admin.host}:${admin.port}/healthz`);
    const inside = services[name].ports.map((p: string) => Number(p.split(':').pop()));
    assert.ok(inside.includes(admin.port), `${name} publishes ${inside}, not the admin port ${admin.port}`);
  }
});

test('ports line up: Redis URL -> redis service; backend URLs -> backend services', () => {
  const c = configOf('proxy-a');
  const url = new URL(c.cluster.redis.url);
  assert.ok(services[url.hostname], `Redis host ${url.hostname} is not a service`);
  const redisCmd: string[] = services[url.hostname].command;
  const redisPort = redisCmd.includes('--port') ? Number(argAfter(redisCmd, '--port')) : 6379;
  assert.equal(Number(url.port || 6379), redisPort);
  assert.ok(services[url.hostname].healthcheck.test.includes(String(redisPort)));
  const backends = Object.values(c.pools).flatMap((p) => p.backends);
  assert.equal(backends.length, 2);
  for (const b of backends) {
    const u = new URL(b.url);
    const svc = services[u.hostname];
    assert.ok(svc, `backend host ${u.hostname} is not a service`);
    // echo-backend.js PORT ID HOST
    assert.deepEqual(svc.command, [u.port, u.hostname, '0.0.0.0'], `${u.hostname} listens elsewhere or under another id`);
    assert.ok(svc.healthcheck.test.join(' ').includes(`http://127.0.0.1:${u.port}/`), `${u.hostname} healthcheck probes another port`);
    assert.ok(existsSync(join(REPO_ROOT, 'cluster', 'demo', 'echo-backend.ts')), 'the backend script cluster/demo/echo-backend.ts does not exist');
    assert.ok(svc.entrypoint.join(' ').includes('dist/cluster/demo/echo-backend.js'));
  }
});

test('deploy/Dockerfile: multi-stage, production deps, non-root, /healthz check, wsha node start', () => {
  const df = readFileSync(join(REPO_ROOT, 'deploy', 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const lines = df.split('\n').filter((l) => !l.startsWith('#'));
  assert.equal(lines.filter((l) => l.startsWith('FROM ')).length, 2);
  assert.match(df, /^FROM \S+ AS build$/m);
  assert.match(df, /npm ci --omit=dev/);
  assert.match(df, /npm run build/);
  const user = lines.filter((l) => l.startsWith('USER ')).pop();
  assert.ok(user && !/USER (root|0)\b/.test(user), 'runs as root');
  assert.match(df, /^HEALTHCHECK .*WSHA_HEALTH_URL/m);
  assert.match(df, /WSHA_HEALTH_URL=http:\/\/127\.0\.0\.1:\d+\/healthz/);
  const entry = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(df)![1]);
  const cmd = JSON.parse(/^CMD (.*)$/m.exec(df)![1]);
  assert.deepEqual([...entry, ...cmd], ['node', ...CONTROL_EXEC_ARGV, 'dist/cluster/cli/main.js', 'node', 'start', '--config', CONFIG_IN_CONTAINER]);
  assert.ok(existsSync(join(REPO_ROOT, 'dist', 'cluster', 'cli', 'main.js')));
  for (const m of df.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
    for (const src of m[1].split(/\s+/)) assert.ok(existsSync(join(REPO_ROOT, src)), `COPY ${src}: no such file`);
  }
});

test('vip-forward.js forwards bytes to its target and --check tells a live target from a dead one', async (t) => {
  const target = createServer((s) => s.pipe(s));
  t.after(() => target.close());
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const targetAddr = `127.0.0.1:${(target.address() as AddressInfo).port}`;
  const port = await freePort();
  const script = join(REPO_ROOT, 'deploy', 'compose', 'vip-forward.js');
  const fwd = spawn(process.execPath, [script, String(port), targetAddr], { env: { ...process.env, VIP_FORWARD_HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { fwd.kill('SIGKILL'); });
  let out = '';
  fwd.stdout.on('data', (d) => { out += d; });
  await waitFor(() => out.includes('->'), 'forwarder listening', 10000);
  const reply = await new Promise<string>((done, fail) => {
    const s = connect(port, '127.0.0.1', () => s.write('ping through the VIP'));
    s.on('data', (d) => { done(String(d)); s.destroy(); }).on('error', fail);
  });
  assert.equal(reply, 'ping through the VIP');
  const check = (addr: string) => new Promise<number | null>((r) => spawn(process.execPath, [script, '--check', addr], { stdio: 'ignore' }).on('exit', r));
  assert.equal(await check(targetAddr), 0);
  const dead = await freePort();
  assert.equal(await check(`127.0.0.1:${dead}`), 1);
});

test('the backend service command starts the echo backend, and its healthcheck passes against it', async (t) => {
  const svc = services['backend-1'];
  const port = await freePort();
  // The service's own entrypoint and command, with a free port and loopback instead of 9000 and 0.0.0.0.
  const argv = [...svc.entrypoint.slice(1), ...svc.command].map((a: string) => (a === '9000' ? String(port) : a === '0.0.0.0' ? '127.0.0.1' : a));
  const proc = spawn(process.execPath, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { proc.kill('SIGKILL'); });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  await waitFor(() => out.includes('listening'), 'echo backend listening', 10000);
  const probe: string[] = svc.healthcheck.test.slice(1).map((a: string) => a.replaceAll('9000', String(port)));
  const code = await new Promise<number | null>((r) => spawn(probe[0] === 'node' ? process.execPath : probe[0], probe.slice(1), { stdio: 'ignore' }).on('exit', r));
  assert.equal(code, 0, 'healthcheck failed against a running backend');
  proc.kill('SIGKILL');
  await new Promise((r) => proc.once('exit', r));
  const after = await new Promise<number | null>((r) => spawn(process.execPath, probe.slice(1), { stdio: 'ignore' }).on('exit', r));
  assert.equal(after, 1, 'healthcheck passed with the backend gone');
});

test('make-env.sh writes a 0600 env file with an admin token and a cluster secret the nodes accept, and keeps it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-make-env-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'make-env.sh');
  copyFileSync(join(REPO_ROOT, 'deploy', 'compose', 'make-env.sh'), script);
  const run = () => execFileSync('sh', [script], { encoding: 'utf8' });
  const envFile = join(dir, 'secrets.env');
  // A file from the version before the cluster secret: the token stays, the secret is added.
  writeFileSync(envFile, 'WSHA_ADMIN_TOKEN=kept-token-0123456789\n', { mode: 0o644 });
  run();
  const read = () => Object.fromEntries(readFileSync(envFile, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const first = read();
  assert.equal(first.WSHA_ADMIN_TOKEN, 'kept-token-0123456789');
  assert.equal(statSync(envFile).mode & 0o777, 0o600);
  assert.equal(loadClusterSecret(undefined, { WSHA_CLUSTER_SECRET: first.WSHA_CLUSTER_SECRET }).secret.length, 64);
  run();
  assert.deepEqual(read(), first, 'a second run keeps both values');
  for (const p of PROXIES) assert.ok((services[p].env_file ?? []).some((f: string) => resolve(REPO_ROOT, f) === join(REPO_ROOT, 'deploy', 'compose', 'secrets.env')), `${p} reads secrets.env`);
});
