/**
 * The planned-maintenance runbook (deploy/runbooks/planned-maintenance.md),
 * exercised as written: its ```sh blocks marked `# runbook-test` are run
 * command by command (`wsha` = the built CLI, /etc/wsha/wsha.yaml = a node
 * config of the test cluster) against a local two-node cluster with the bind
 * driver: real redis-server, two echo backends, two `wsha node start`
 * processes. While the commands run, WebSocket clients stay connected
 * through the VIP (reconnecting whenever closed) and a prober opens new
 * connections every few milliseconds. Checked: every command exits 0, no
 * connection is refused, clients get close code 1012 and reconnect, the new
 * owner (and the drained node) shows in `wsha status --json`, and a drained
 * node that restarts ("patch") stays drained.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startEchoBackend } from '../../cluster/demo/echo-backend';
import { freePort, sleep, waitFor } from '../harness/ports';
import { startRedis } from '../harness/redis';
import { startNodeProcess, type NodeProcess } from '../harness/node-process';
import { runWsha, REPO_ROOT } from '../harness/wsha-cli';

const RUNBOOK = join(REPO_ROOT, 'deploy', 'runbooks', 'planned-maintenance.md');
const CONFIG_IN_RUNBOOK = '/etc/wsha/wsha.yaml';
const CLIENT_COUNT = 12;
/** Bounds of every loop in this file. */
const MAX_RECONNECTS_PER_CLIENT = 40;
const MAX_PROBES = 5000;

/** The `# runbook-test` blocks of the runbook, each as its list of command lines. */
function runbookTestBlocks(markdown: string): string[][] {
  const blocks: string[][] = [];
  for (const m of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    const lines = m[1].split('\n').map((l) => l.trim());
    if (lines[0] !== '# runbook-test') continue;
    blocks.push(lines.filter((l) => l && !l.startsWith('#')));
  }
  return blocks;
}

/** A WebSocket client that reconnects at once whenever it is closed, recording what it saw. */
class StickyClient {
  ws: WebSocket | null = null;
  closeCodes: number[] = [];
  errors: string[] = [];
  opens = 0;
  #stopped = false;
  constructor(readonly url: string) {}
  start(): void {
    if (this.#stopped || this.opens + this.errors.length >= MAX_RECONNECTS_PER_CLIENT) return;
    const ws = new WebSocket(this.url, { handshakeTimeout: 5000 });
    this.ws = ws;
    let opened = false;
    ws.on('open', () => { opened = true; this.opens++; });
    ws.on('error', (err: NodeJS.ErrnoException) => { this.errors.push(err.code ?? err.message); });
    ws.on('close', (code) => {
      // Only connections that were open count: a failed handshake also ends in 'close' (1006).
      if (opened) this.closeCodes.push(code);
      if (!this.#stopped) setTimeout(() => this.start(), 10);
    });
  }
  isOpen(): boolean { return this.ws?.readyState === WebSocket.OPEN; }
  stop(): void { this.#stopped = true; this.ws?.terminate(); }
}

/** Opens short TCP connections to the VIP every few ms and counts refusals. */
function startProber(host: string, port: number): { refused: () => number; attempts: () => number; stop: () => void } {
  let refused = 0;
  let attempts = 0;
  let stopped = false;
  const tick = () => {
    if (stopped || attempts >= MAX_PROBES) return;
    attempts++;
    const s = connect(port, host);
    s.on('connect', () => s.destroy());
    s.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'ECONNREFUSED') refused++; });
    setTimeout(tick, 15);
  };
  tick();
  return { refused: () => refused, attempts: () => attempts, stop: () => { stopped = true; } };
}

interface StatusDoc { vips: Array<{ name: string; owner: string | null; epoch: number | null }>; nodes: Array<{ id: string; alive: boolean; drained: boolean | null }> }

test('the planned-maintenance runbook runs as written and keeps its promises', { timeout: 120_000 }, async (t) => {
  const blocks = runbookTestBlocks(readFileSync(RUNBOOK, 'utf8'));
  assert.ok(blocks.length >= 4, `expected the runbook's # runbook-test blocks, found ${blocks.length}`);
  for (const line of blocks.flat()) assert.match(line, /^wsha [a-z]/, `a # runbook-test block may only hold wsha commands: ${line}`);

  // Skip only when a command of the runbook does not exist in the CLI yet.
  const verbs = [...new Set(blocks.flat().map((l) => l.split(/\s+/)[1]))];
  const missing: string[] = [];
  for (const v of verbs) if (!(await runWsha([v, '--help'])).stdout.startsWith(`Usage: wsha ${v} `)) missing.push(v);
  if (missing.length) { t.skip(`the CLI has no command ${missing.map((v) => `wsha ${v}`).join(', ')} yet`); return; }

  const redis = await startRedis();
  t.after(() => redis.stop());
  const b1 = await startEchoBackend(0, 'app-1');
  t.after(() => b1.close());
  const b2 = await startEchoBackend(0, 'app-2');
  t.after(() => b2.close());

  // A VIP of its own in 127.0.0.0/8, so that no other test's listener is in the way.
  const vipHost = `127.${77 + Math.floor(Math.random() * 100)}.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const vipPort = await freePort(vipHost);
  const token = `runbook-${Math.random().toString(36).slice(2)}`;
  const env = { WSHA_ADMIN_TOKEN: token };
  const cluster = `runbook-${process.pid}`;
  const configFor = async (id: string, priority: number) => ({
    cluster: { name: cluster, redis: { url: redis.url }, handover: { closeWindowMs: 300 } },
    node: { id, priority, admin: { listen: `127.0.0.1:${await freePort()}` }, peer: { listen: '127.0.0.1:0' }, drain: { graceMs: 200, deadlineMs: 3000 } },
    vips: [{ name: 'public', driver: 'bind', address: vipHost }],
    listeners: [{ name: 'ws', on: 'vip:public', port: vipPort }],
    routes: [{ pool: 'echo' }],
    pools: { echo: { balance: 'sticky', sticky: { query: 'room' }, backends: [{ id: 'app-1', url: `http://127.0.0.1:${b1.port}` }, { id: 'app-2', url: `http://127.0.0.1:${b2.port}` }], healthCheck: { type: 'http', intervalMs: 500, timeoutMs: 400 } } },
  });
  const cfgA = await configFor('proxy-a', 150);
  const cfgB = await configFor('proxy-b', 100);
  const nodes: NodeProcess[] = [];
  t.after(async () => { for (const n of nodes) await n.cleanup(); });
  // proxy-a first: with preempt off, whoever comes up first keeps the VIP.
  nodes.push(await startNodeProcess(cfgA, env));
  nodes.push(await startNodeProcess(cfgB, env));
  const configPath = nodes[0].configPath;

  const wsha = (line: string) => runWsha(line.split(/\s+/).slice(1).map((w) => (w === CONFIG_IN_RUNBOOK ? configPath : w)), { env: { ...process.env, ...env } });
  const status = async (): Promise<StatusDoc> => JSON.parse((await runWsha(['status', '--config', configPath, '--json'], { env: { ...process.env, ...env } })).stdout);
  const vip = (s: StatusDoc) => s.vips.find((v) => v.name === 'public');
  const ownerIs = async (id: string) => { const s = await status(); return vip(s)?.owner === id && s.nodes.filter((n) => n.alive).length === 2 ? s : null; };

  const first = await waitFor(() => ownerIs('proxy-a'), 'proxy-a owning the VIP with both nodes alive', 20000, 200);
  let epoch = vip(first)!.epoch!;
  // Both nodes must see both backends up before the runbook's step 1 may say "healthy".
  await waitFor(async () => (await runWsha(['status', '--config', configPath], { env: { ...process.env, ...env } })).code === 0, 'wsha status healthy', 20000, 300);

  const clients = Array.from({ length: CLIENT_COUNT }, (_, i) => new StickyClient(`ws://${vipHost}:${vipPort}/chat?room=r${i}`));
  t.after(() => clients.forEach((c) => c.stop()));
  clients.forEach((c) => c.start());
  await waitFor(() => clients.every((c) => c.isOpen()), 'every client connected through the VIP', 10000);
  const prober = startProber(vipHost, vipPort);
  t.after(() => prober.stop());

  /** After a handover to `to`: new owner with a higher epoch, clients closed with 1012 and back. */
  const expectHandover = async (to: string) => {
    const s = await waitFor(() => ownerIs(to), `${to} owning the VIP`, 15000, 200);
    assert.ok(vip(s)!.epoch! > epoch, `epoch must grow (was ${epoch}, now ${vip(s)!.epoch})`);
    epoch = vip(s)!.epoch!;
    await waitFor(() => clients.every((c) => c.closeCodes.includes(1012) && c.isOpen()), 'every client closed with 1012 and reconnected', 15000, 50);
    for (const c of clients) c.closeCodes.length = 0;
    const reply = await new Promise<string>((done, fail) => {
      const ws = clients[0].ws!;
      const timer = setTimeout(() => fail(new Error('no echo through the new owner')), 5000);
      ws.once('message', (d) => { clearTimeout(timer); done(String(d)); });
      ws.send('after handover');
    });
    assert.match(reply, /\[app-\d\] (after handover|hello)/);
  };

  for (const block of blocks) {
    for (const line of block) {
      const r = await wsha(line);
      assert.equal(r.code, 0, `runbook command failed: ${line}\n${r.stdout}${r.stderr}`);
    }
    const verbs = block.map((l) => l.split(/\s+/)[1]);
    if (verbs.includes('drain')) {
      await expectHandover('proxy-b');
      const s = await status();
      assert.equal(s.nodes.find((n) => n.id === 'proxy-a')?.drained, true, 'proxy-a shown as drained');
      // Step 3 ("patch"): the runbook restarts the drained node with systemctl; here its process restarts.
      const old = nodes[0];
      old.signal('SIGTERM');
      await old.exited();
      nodes[0] = await startNodeProcess(cfgA, env);
      await waitFor(async () => { const x = await status(); return x.nodes.find((n) => n.id === 'proxy-a')?.alive && x; }, 'proxy-a back after restart', 15000, 200);
      await sleep(1000);
      const after = await status();
      assert.equal(after.nodes.find((n) => n.id === 'proxy-a')?.drained, true, 'proxy-a still drained after a restart');
      assert.equal(vip(after)?.owner, 'proxy-b', 'the VIP stays on proxy-b while proxy-a is drained');
    }
    if (verbs.includes('undrain')) {
      await waitFor(async () => (await status()).nodes.find((n) => n.id === 'proxy-a')?.drained === false, 'proxy-a no longer drained', 10000, 200);
      await sleep(1000);
      assert.equal(vip(await status())?.owner, 'proxy-b', 'with preempt off, undrain does not move the VIP back');
    }
    if (verbs.includes('failover')) await expectHandover('proxy-a');
  }
  prober.stop();
  t.diagnostic(`prober: ${prober.attempts()} connects, ${prober.refused()} refused; clients: ${clients.reduce((n, c) => n + c.opens, 0)} opens, errors ${JSON.stringify(clients.flatMap((c) => c.errors))}; final epoch ${epoch}`);
  assert.ok(prober.attempts() > 50, `the prober ran (${prober.attempts()} attempts)`);
  assert.equal(prober.refused(), 0, `${prober.refused()} of ${prober.attempts()} new connections to the VIP were refused`);
  const refusedClients = clients.flatMap((c) => c.errors).filter((e) => e === 'ECONNREFUSED');
  assert.deepEqual(refusedClients, [], 'a reconnecting client was refused');
});
