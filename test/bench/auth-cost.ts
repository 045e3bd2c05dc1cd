/**
 * What the edge costs (issue 12), in one run so that the ratios compare
 * like with like: a real wsha node (its own process) with five routes in
 * front of the echo backend (its own process):
 *
 *   /plain   no edge settings                       (handshake baseline)
 *   /jwt     RS256 JWT, keys from a JWKS server     (default settings: verified tokens cached)
 *   /ext     external auth service (no cache)       (the service runs in this process)
 *   /nomsg   no edge settings                       (message baseline)
 *   /msg     messages: ratePerSec and maxBytes      (frame headers read client -> backend)
 *
 * Handshakes per second: `--handshakes` upgrades with `--concurrency` in
 * flight, per route, in interleaved rounds (plain, jwt, jwt, ext, plain, ...)
 * so that drift of a shared machine falls on all alike. /jwt is measured
 * twice, because its verified-token cache helps only a token seen before:
 *
 *   distinct  every handshake presents a token never seen (the worst case:
 *             every one is a cache miss and a full RS256 verification)
 *   reuse     every token is presented `--reuse` times, spread over the
 *             round (clients that reconnect with the token they hold); the
 *             tokens are new each round, so at most 1 - 1/reuse are hits
 *
 * Messages per
 * second: the closed-loop echo load of ws-load.ts on /nomsg and /msg, also
 * interleaved. Printed as rates and as ratios to the baselines, and the
 * CPU time the wsha node's processes spent per handshake (from /proc),
 * which a shared machine's contention disturbs less than the rates.
 *
 *   npm run build && npm run bench:auth -- --help
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync, rmSync, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Command } from 'commander';
import WebSocket from 'ws';
import { freePort, waitFor } from '../harness/ports';
import { withClusterSecret } from '../harness/cluster-secret';
import { makeKey, signToken, type SigningKey } from '../harness/edge';
import { startEchoBackend } from './bench-node';
import { runEchoLoadAt } from './ws-load';
import { cpuNsOf, processTree } from './proc-stats';
import { CONTROL_EXEC_ARGV } from '../../shared/control-flags';

const CLI = join(__dirname, '..', '..', 'cluster', 'cli', 'main.js');

interface Options { handshakes: number; concurrency: number; rounds: number; reuse: number; connections: number; payloadBytes: number; durationMs: number; warmupMs: number }

function parseOptions(argv: string[]): Options {
  const o = new Command('auth-cost')
    .option('--handshakes <n>', 'handshakes per route per round', '1500')
    .option('--concurrency <n>', 'handshakes in flight', '32')
    .option('--rounds <n>', 'interleaved rounds', '3')
    .option('--reuse <n>', 'times each token is presented in the reuse phase', '10')
    .option('--connections <n>', 'echo connections for the message phase', '64')
    .option('--payload-bytes <n>', 'message size', '64')
    .option('--duration-ms <n>', 'message phase length per route per round', '4000')
    .option('--warmup-ms <n>', 'message phase warm-up', '1000')
    .parse(argv).opts();
  return { handshakes: +o.handshakes, concurrency: +o.concurrency, rounds: +o.rounds, reuse: Math.max(1, +o.reuse), connections: +o.connections, payloadBytes: +o.payloadBytes, durationMs: +o.durationMs, warmupMs: +o.warmupMs };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

function configYaml(p: { port: number; adminPort: number; backendPort: number; jwksUrl: string; authUrl: string; redisPort: number }): string {
  const pool = 'echo';
  return [
    `cluster: { name: bench-auth, redis: { url: "redis://127.0.0.1:${p.redisPort}" } }`,
    'node: { id: bench-auth, admin: { listen: "127.0.0.1:' + p.adminPort + '" }, drain: { graceMs: 0, deadlineMs: 2000 } }',
    `listeners: [ { name: bench, on: 127.0.0.1, port: ${p.port} } ]`,
    'routes:',
    `  - { path: /plain, pool: ${pool} }`,
    `  - { path: /jwt, pool: ${pool}, auth: { jwt: { jwks: { url: "${p.jwksUrl}" }, audience: bench, claimHeaders: { sub: X-User } } } }`,
    `  - { path: /ext, pool: ${pool}, auth: { external: { url: "${p.authUrl}", timeoutMs: 2000 } } }`,
    `  - { path: /nomsg, pool: ${pool} }`,
    `  - { path: /msg, pool: ${pool}, messages: { ratePerSec: 1000000, maxBytes: 1048576 } }`,
    `pools: { ${pool}: { backends: [ { id: echo-1, url: "http://127.0.0.1:${p.backendPort}" } ] } }`,
    'limits: { maxConnections: 100000, handshakeTimeoutMs: 30000 }',
    'logging: { level: error }',
    '',
  ].join('\n');
}

function handshake(url: string, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers, handshakeTimeout: 20000 });
    ws.once('open', () => { ws.terminate(); resolve(); });
    ws.once('unexpected-response', (_q, res) => { ws.terminate(); reject(new Error(`${url}: HTTP ${res.statusCode}`)); });
    ws.once('error', reject);
  });
}

/** One route's handshake phase: handshakes per second, and CPU µs of the node's processes per handshake. */
interface Phase { rate: number; cpuUs: number }

/** `n` handshakes, `c` in flight, against the node whose processes are `pids`. */
async function handshakeRate(url: string, n: number, c: number, pids: readonly number[], headersFor: (i: number) => Record<string, string>): Promise<Phase> {
  let next = 0;
  const cpu0 = cpuNsOf(pids);
  const t0 = performance.now();
  const worker = async () => { for (let i = next++; i < n; i = next++) await handshake(url, headersFor(i)); };
  await Promise.all(Array.from({ length: c }, worker));
  return { rate: n / ((performance.now() - t0) / 1000), cpuUs: (cpuNsOf(pids) - cpu0) / 1000 / n };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const o = parseOptions(process.argv);
  const key: SigningKey = makeKey('bench-1');
  const jwks = createServer((_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.jwk] })));
  const auth = createServer((q, res) => res.writeHead(q.headers.authorization === 'Bearer ext-ok' ? 200 : 403).end());
  auth.keepAliveTimeout = 60_000;
  const [jwksPort, authPort] = [await listen(jwks), await listen(auth)];
  const backend = await startEchoBackend();
  const dir = mkdtempSync(join(tmpdir(), 'wsha-bench-auth-'));
  const [port, adminPort, redisPort] = [await freePort(), await freePort(), await freePort()];
  const configPath = join(dir, 'node.yaml');
  writeFileSync(configPath, configYaml({ port, adminPort, backendPort: backend.port, jwksUrl: `http://127.0.0.1:${jwksPort}/jwks`, authUrl: `http://127.0.0.1:${authPort}/check`, redisPort }));
  const logFd = openSync(join(dir, 'node.log'), 'w');
  const node: ChildProcess = spawn(process.execPath, [...CONTROL_EXEC_ARGV, CLI, 'node', 'start', '--config', configPath], { stdio: ['ignore', logFd, logFd], env: withClusterSecret() });
  closeSync(logFd);
  const stop = async () => {
    if (node.exitCode === null && node.signalCode === null) { node.kill('SIGTERM'); await new Promise((r) => node.once('exit', r)); }
    await backend.stop();
    jwks.close(); auth.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const base = `ws://127.0.0.1:${port}`;
    await waitFor(async () => { await handshake(`${base}/plain`, {}); return true; }, 'the node to proxy', 30_000, 100);
    const perRoundReused = Math.ceil(o.handshakes / o.reuse);
    const total = (o.handshakes + perRoundReused) * o.rounds + 1;
    process.stdout.write(`signing ${total} distinct RS256 tokens...\n`);
    const tokens: string[] = [];
    for (let i = 0; i < total; i++) tokens.push(await signToken(key, { sub: `user-${i}`, aud: 'bench' }));
    await handshake(`${base}/jwt`, { authorization: `Bearer ${tokens[tokens.length - 1]}` });
    const pids = processTree(node.pid!);
    const phases: Record<'plain' | 'jwt' | 'reuse' | 'ext', Phase[]> = { plain: [], jwt: [], reuse: [], ext: [] };
    let used = 0;
    for (let r = 0; r < o.rounds; r++) {
      phases.plain.push(await handshakeRate(`${base}/plain`, o.handshakes, o.concurrency, pids, () => ({})));
      const distinct = used;
      phases.jwt.push(await handshakeRate(`${base}/jwt`, o.handshakes, o.concurrency, pids, (i) => ({ authorization: `Bearer ${tokens[distinct + i]}` })));
      used += o.handshakes;
      // Handshake i presents token i mod k: each of the k tokens `reuse` times, its uses spread over the round.
      const reused = used;
      phases.reuse.push(await handshakeRate(`${base}/jwt`, o.handshakes, o.concurrency, pids, (i) => ({ authorization: `Bearer ${tokens[reused + (i % perRoundReused)]}` })));
      used += perRoundReused;
      phases.ext.push(await handshakeRate(`${base}/ext`, o.handshakes, o.concurrency, pids, () => ({ authorization: 'Bearer ext-ok' })));
      const f = (x: Phase) => `${x.rate.toFixed(0)} (${x.cpuUs.toFixed(0)} µs)`;
      process.stdout.write(`round ${r + 1}: handshakes/s (wsha CPU per handshake) plain ${f(phases.plain[r])}, RS256 distinct ${f(phases.jwt[r])}, RS256 reuse x${o.reuse} ${f(phases.reuse[r])}, ext auth ${f(phases.ext[r])}\n`);
    }
    const rates = Object.fromEntries(Object.entries(phases).map(([k, xs]) => [k, xs.map((x) => x.rate)])) as Record<keyof typeof phases, number[]>;
    const cpu = Object.fromEntries(Object.entries(phases).map(([k, xs]) => [k, median(xs.map((x) => x.cpuUs))])) as Record<keyof typeof phases, number>;
    const msgs: Record<string, number[]> = { nomsg: [], msg: [] };
    for (let r = 0; r < o.rounds; r++) {
      for (const path of ['nomsg', 'msg'] as const) {
        const res = await runEchoLoadAt(`${base}/${path}`, { connections: o.connections, payloadBytes: o.payloadBytes, warmupMs: o.warmupMs, durationMs: o.durationMs });
        msgs[path].push(res.messages / (res.durationMs / 1000));
      }
      process.stdout.write(`round ${r + 1}: msgs/s without limits ${msgs.nomsg[r].toFixed(0)}, with message limits ${msgs.msg[r].toFixed(0)}\n`);
    }
    const p = median(rates.plain), j = median(rates.jwt), u = median(rates.reuse), e = median(rates.ext), n = median(msgs.nomsg), m = median(msgs.msg);
    const delta = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(0)}`;
    const pct = (x: number, b: number) => `${((x / b) * 100).toFixed(1)} %`;
    process.stdout.write([
      '',
      `edge cost (median of ${o.rounds} interleaved rounds; ${o.handshakes} handshakes, ${o.concurrency} in flight; ${o.connections} echo connections of ${o.payloadBytes} B)`,
      `  handshakes/s  no auth ${p.toFixed(0)}   ext auth ${e.toFixed(0)} (${pct(e, p)} of no auth)`,
      `  RS256 JWT     distinct tokens ${j.toFixed(0)} (${pct(j, p)} of no auth; target >= 80 %)   each token ${o.reuse} times ${u.toFixed(0)} (${pct(u, p)}; at most ${pct(o.reuse - 1, o.reuse)} cache hits)`,
      `  wsha CPU per handshake  no auth ${cpu.plain.toFixed(0)} µs   RS256 distinct ${cpu.jwt.toFixed(0)} µs (${delta(cpu.jwt - cpu.plain)})   RS256 reuse x${o.reuse} ${cpu.reuse.toFixed(0)} µs (${delta(cpu.reuse - cpu.plain)})   ext auth ${cpu.ext.toFixed(0)} µs (${delta(cpu.ext - cpu.plain)})`,
      `  messages/s    no limits ${n.toFixed(0)}   message limits ${m.toFixed(0)} (${pct(m, n)}; target >= 90 %)`,
      '',
    ].join('\n'));
  } catch (err) {
    process.stderr.write(`${String(err)}\n${readFileSync(join(dir, 'node.log'), 'utf8').split('\n').slice(-20).join('\n')}\n`);
    process.exitCode = 1;
  } finally {
    await stop();
  }
}

void main();
