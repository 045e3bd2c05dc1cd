/**
 * Running a runbook's commands against a local cluster, for the runbook
 * tests (test/integration/deploy-runbook-*.test.ts): the `# runbook-test`
 * blocks of a runbook, a local cluster of `wsha node start` processes with
 * the bind driver on a VIP of its own in 127.0.0.0/8, WebSocket clients that
 * reconnect whenever closed, and a prober that counts refused connects.
 */
import { connect } from 'node:net';
import WebSocket from 'ws';
import { startEchoBackend, type EchoBackend } from '../../cluster/demo/echo-backend';
import { freePort, waitFor } from './ports';
import { startRedis, type RedisProcess } from './redis';
import { startNodeProcess, type NodeProcess } from './node-process';
import { runWsha, type CliResult } from './wsha-cli';

/** The config path the runbooks use; replaced by a node's real config path. */
export const CONFIG_IN_RUNBOOK = '/etc/wsha/wsha.yaml';
/** Bounds of every loop in this file. */
const MAX_RECONNECTS_PER_CLIENT = 40;
const MAX_PROBES = 5000;

/** The `# runbook-test` blocks of a runbook, each as its list of command lines. */
export function runbookTestBlocks(markdown: string): string[][] {
  const blocks: string[][] = [];
  for (const m of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    const lines = m[1].split('\n').map((l) => l.trim());
    if (lines[0] !== '# runbook-test') continue;
    blocks.push(lines.filter((l) => l && !l.startsWith('#')));
  }
  return blocks;
}

/** The `wsha` subcommands of those blocks that the CLI does not have (yet); each `--help` runs at the same time. */
export async function missingCommands(blocks: string[][]): Promise<string[]> {
  const verbs = [...new Set(blocks.flat().map((l) => l.split(/\s+/)[1]))];
  const helps = await Promise.all(verbs.map((v) => runWsha([v, '--help'])));
  return verbs.filter((v, i) => !helps[i]!.stdout.startsWith(`Usage: wsha ${v} `));
}

/** A WebSocket client that reconnects at once whenever it is closed, recording what it saw. */
export class StickyClient {
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
export function startProber(host: string, port: number): { refused: () => number; attempts: () => number; stop: () => void } {
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

/** The parts of `wsha status --json` the runbook tests read. */
export interface StatusDoc {
  vips: Array<{ name: string; owner: string | null; epoch: number | null }>;
  nodes: Array<{ id: string; alive: boolean; drained: boolean | null }>;
}

/** A local cluster for runbook tests: Redis, two echo backends, nodes started on demand. */
export class RunbookCluster {
  readonly nodes = new Map<string, NodeProcess>();
  readonly configs = new Map<string, object>();
  readonly env: Record<string, string>;
  /** Node whose config file stands in for /etc/wsha/wsha.yaml. */
  configNode = '';
  private constructor(readonly redis: RedisProcess, readonly backends: EchoBackend[], readonly vipHost: string, readonly vipPort: number, readonly cluster: string) {
    this.env = { WSHA_ADMIN_TOKEN: `runbook-${Math.random().toString(36).slice(2)}` };
  }

  /** Starts Redis and two backends; the caller registers `close()` right after. */
  static async create(name: string): Promise<RunbookCluster> {
    const redis = await startRedis();
    const backends: EchoBackend[] = [];
    try {
      backends.push(await startEchoBackend(0, 'app-1'), await startEchoBackend(0, 'app-2'));
      // A VIP of its own in 127.0.0.0/8, so that no other test's listener is in the way.
      const vipHost = `127.${77 + Math.floor(Math.random() * 100)}.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
      return new RunbookCluster(redis, backends, vipHost, await freePort(vipHost), `${name}-${process.pid}`);
    } catch (err) {
      for (const b of backends) await b.close();
      await redis.stop();
      throw err;
    }
  }

  /** Starts (or restarts with the same config) node `id`. */
  async startNode(id: string, priority: number): Promise<NodeProcess> {
    if (!this.configs.has(id)) this.configs.set(id, await this.#config(id, priority));
    const n = await startNodeProcess(this.configs.get(id)!, this.env);
    this.nodes.set(id, n);
    if (!this.configNode) this.configNode = id;
    return n;
  }

  /** SIGTERM, as `systemctl stop wsha` sends, and wait for the exit. */
  async stopNode(id: string): Promise<void> {
    const n = this.nodes.get(id);
    if (!n) return;
    n.signal('SIGTERM');
    await n.exited();
    await n.cleanup();
    this.nodes.delete(id);
  }

  async #config(id: string, priority: number): Promise<object> {
    const [b1, b2] = this.backends;
    return {
      cluster: { name: this.cluster, redis: { url: this.redis.url }, handover: { closeWindowMs: 300 } },
      node: { id, priority, admin: { listen: `127.0.0.1:${await freePort()}` }, peer: { listen: '127.0.0.1:0' }, drain: { graceMs: 200, deadlineMs: 3000 } },
      vips: [{ name: 'public', driver: 'bind', address: this.vipHost }],
      listeners: [{ name: 'ws', on: 'vip:public', port: this.vipPort }],
      routes: [{ pool: 'echo' }],
      pools: { echo: { balance: 'sticky', sticky: { query: 'room' }, backends: [{ id: 'app-1', url: `http://127.0.0.1:${b1.port}` }, { id: 'app-2', url: `http://127.0.0.1:${b2.port}` }], healthCheck: { type: 'http', intervalMs: 500, timeoutMs: 400 } } },
    };
  }

  get configPath(): string { return this.nodes.get(this.configNode)!.configPath; }

  /** Runs one runbook line (`wsha ...`) with the config path substituted. */
  wsha(line: string): Promise<CliResult> {
    const args = line.split(/\s+/).slice(1).map((w) => (w === CONFIG_IN_RUNBOOK ? this.configPath : w));
    return runWsha(args, { env: { ...process.env, ...this.env } });
  }

  async status(): Promise<StatusDoc> {
    return JSON.parse((await this.wsha(`wsha status --config ${CONFIG_IN_RUNBOOK} --json`)).stdout);
  }

  /** Waits until `id` owns the VIP and `alive` nodes are alive; returns the status then. */
  ownerIs(id: string, alive: number, timeoutMs = 15000): Promise<StatusDoc> {
    return waitFor(async () => {
      const s = await this.status();
      return s.vips.find((v) => v.name === 'public')?.owner === id && s.nodes.filter((n) => n.alive).length === alive ? s : null;
    }, `${id} owning the VIP with ${alive} nodes alive`, timeoutMs, 200);
  }

  /** Clients through the VIP, one sticky room each. */
  clients(count: number): StickyClient[] {
    return Array.from({ length: count }, (_, i) => new StickyClient(`ws://${this.vipHost}:${this.vipPort}/chat?room=r${i}`));
  }

  async close(): Promise<void> {
    for (const n of this.nodes.values()) await n.cleanup();
    this.nodes.clear();
    for (const b of this.backends) await b.close();
    await this.redis.stop();
  }
}

/** The VIP's epoch in a status document. */
export const vipOf = (s: StatusDoc) => s.vips.find((v) => v.name === 'public');

/** Sends `msg` on an open client and resolves with the first reply that carries it. */
export function echoThrough(ws: WebSocket, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { ws.off('message', onMessage); reject(new Error(`no echo of ${msg} within 5 s`)); }, 5000);
    const onMessage = (d: WebSocket.RawData) => { if (String(d).includes(msg)) { clearTimeout(timer); ws.off('message', onMessage); resolve(String(d)); } };
    ws.on('message', onMessage);
    ws.send(msg);
  });
}
