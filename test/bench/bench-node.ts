/**
 * Starts the benchmark's own processes: the echo backend and the TCP relay
 * in their own child processes, and a real wsha node (`wsha node start
 * --config FILE`, the cluster secret in its environment) with a config the
 * bench writes: one plain listener on 127.0.0.1 (and optionally a wss one
 * with a self-signed certificate), raised connection limits, quiet logs.
 * Each child is stopped by its own PID.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../harness/ports';
import { openWebSocket } from './ws-load';
import { withClusterSecret } from '../harness/cluster-secret';
import { spawnNodeRaised } from './nofile';
import { CONTROL_EXEC_ARGV } from '../../shared/control-flags';

const CLI = join(__dirname, '..', '..', 'cluster', 'cli', 'main.js');
const ECHO_BACKEND = join(__dirname, 'echo-backend.js');
const TCP_RELAY = join(__dirname, 'tcp-relay.js');
const START_TIMEOUT_MS = 30_000;

/** A child process of the benchmark. */
export interface BenchProcess { pid: number; port: number; stop(): Promise<void> }

/** Sends `signal` to `proc`, SIGKILL after `graceMs`, and resolves once it exited. */
export function stopChild(proc: ChildProcess, graceMs = 3000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill(signal);
    setTimeout(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); }, graceMs).unref();
  });
}

/**
 * Forks a bench child script that reports `{ port }` over IPC once
 * listening. Stopping it closes the IPC channel (the children exit on
 * 'disconnect', so a --cpu-prof profile gets written), SIGKILL after 5 s.
 */
export async function forkListening(script: string, args: string[], what: string, execArgv: string[] = []): Promise<BenchProcess> {
  const proc = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${what} did not start`)); }, START_TIMEOUT_MS);
    proc.once('message', (m: { port: number }) => { clearTimeout(timer); resolve(m.port); });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited with ${code}`)); });
  });
  const stop = () => new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.disconnect();
    setTimeout(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); }, 5000).unref();
  });
  return { pid: proc.pid!, port, stop };
}

/** Forks the WebSocket echo backend and waits for its port. */
export function startEchoBackend(): Promise<BenchProcess> {
  return forkListening(ECHO_BACKEND, [], 'echo backend');
}

/** Forks the bare relay baseline in front of `backendPort`; with `tls` it terminates TLS too. */
export function startTcpRelay(backendPort: number, tls = false): Promise<BenchProcess> {
  return forkListening(TCP_RELAY, tls ? [String(backendPort), 'tls'] : [String(backendPort)], tls ? 'tls relay' : 'tcp relay');
}

/** Config of the node under test: one plain listener (and a wss one when `tlsPort` is set), one pool with the echo backend, limits raised. */
export function benchConfigYaml(p: { port: number; tlsPort?: number; adminPort: number; backendPort: number; redisUrl: string; maxConnections: number; idleTimeoutMs?: number; workers?: number | 'auto' }): string {
  return [
    // A cluster of its own per node: the targets share one Redis, and two nodes of one cluster with one node id
    // would fight over one heartbeat, one set of counts and one membership.
    `cluster: { name: bench-${p.port}, redis: { url: "${p.redisUrl}" } }`,
    'node:',
    '  id: bench-node',
    `  admin: { listen: "127.0.0.1:${p.adminPort}" }`,
    '  drain: { graceMs: 0, deadlineMs: 2000 }',
    // Written only when asked for: a build without node.workers refuses the key (strict schema).
    ...(p.workers !== undefined ? [`  workers: ${p.workers}`] : []),
    'listeners:',
    `  - { name: bench, on: 127.0.0.1, port: ${p.port} }`,
    ...(p.tlsPort ? [`  - { name: bench-tls, on: 127.0.0.1, port: ${p.tlsPort}, tls: { selfSigned: true } }`] : []),
    'routes: [ { host: "*", path: /, pool: echo } ]',
    'pools:',
    '  echo:',
    '    balance: round-robin',
    `    backends: [ { id: echo-1, url: "http://127.0.0.1:${p.backendPort}" } ]`,
    `limits: { maxConnections: ${p.maxConnections}, maxConnectionsPerClient: ${p.maxConnections}, handshakeTimeoutMs: 30000${p.idleTimeoutMs ? `, idleTimeoutMs: ${p.idleTimeoutMs}` : ''} }`,
    'logging: { level: warn }',
    '',
  ].join('\n');
}

/** How a bench wsha node is started. */
export interface WshaNodeOptions {
  backendPort: number;
  redisUrl: string;
  maxConnections: number;
  /** Also open a wss:// listener (self-signed). */
  tls?: boolean;
  /** node.workers (absent: not written, the build's default). */
  workers?: number | 'auto';
  /** limits.idleTimeoutMs (0 or absent: off, the default). */
  idleTimeoutMs?: number;
  /** Node flags before the CLI script, e.g. --cpu-prof. */
  execArgv?: string[];
  /** The CLI script to run (another build's, for an A/B); default: this build's. */
  cli?: string;
  /** Where the node's output goes (kept after stop); default: a file in its temporary folder, removed at stop. */
  logFile?: string;
  /** More environment for the node (and its workers, which inherit it: NODE_OPTIONS=--cpu-prof profiles every process). */
  env?: NodeJS.ProcessEnv;
  /** Run the node with its open-file limit raised to the hard limit (nofile.ts). */
  raiseNofile?: boolean;
  /** Written instead of the bench's one-backend config (the scale test's pools); gets the node's ports. */
  configYaml?: (ports: { port: number; adminPort: number }) => string;
}

/** A running bench wsha node. */
export interface WshaNode extends BenchProcess { tlsPort: number; configPath: string; logTail(): string }

/** Starts a wsha node in front of `backendPort` and waits until a WebSocket handshake through it succeeds. */
export async function startWshaNode(opts: WshaNodeOptions): Promise<WshaNode> {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-bench-'));
  const [port, tlsPort, adminPort] = [await freePort(), opts.tls ? await freePort() : 0, await freePort()];
  const configPath = join(dir, 'node.yaml');
  writeFileSync(configPath, opts.configYaml ? opts.configYaml({ port, adminPort }) : benchConfigYaml({ port, tlsPort, adminPort, ...opts }));
  const logPath = opts.logFile ?? join(dir, 'node.log');
  const logFd = openSync(logPath, 'w');
  const args = [...(opts.execArgv ?? CONTROL_EXEC_ARGV), opts.cli ?? CLI, 'node', 'start', '--config', configPath];
  const stdio: ['ignore', number, number] = ['ignore', logFd, logFd];
  const env = withClusterSecret({ ...process.env, ...opts.env });
  const proc = opts.raiseNofile ? spawnNodeRaised(args, { stdio, env }) : spawn(process.execPath, args, { stdio, env });
  closeSync(logFd);
  const logTail = () => { try { return readFileSync(logPath, 'utf8').split('\n').slice(-20).join('\n'); } catch { return ''; } };
  const stop = async () => { await stopChild(proc, 5000); rmSync(dir, { recursive: true, force: true }); };
  let exited = false;
  proc.once('exit', () => { exited = true; });
  try {
    await waitFor(async () => {
      if (exited) return 'exited';
      const ws = await openWebSocket(`ws://127.0.0.1:${port}/`, { timeoutMs: 2000 });
      ws.terminate();
      return true;
    }, 'the wsha node to proxy a WebSocket', START_TIMEOUT_MS, 100);
    if (exited) throw new Error(`wsha node exited with ${proc.exitCode ?? proc.signalCode} before serving`);
  } catch (err) {
    process.stderr.write(`${logTail()}\n`);
    await stop();
    throw err;
  }
  return { pid: proc.pid!, port, tlsPort, configPath, stop, logTail };
}
