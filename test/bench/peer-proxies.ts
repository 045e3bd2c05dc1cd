/**
 * The peer proxies of the benchmark, each on a free loopback port in front
 * of the same echo backend, with a config the bench writes and owns (in a
 * temporary folder, removed when the proxy stops):
 *
 * - nginx: `worker_processes auto`, WebSocket tunnelling (HTTP/1.1 upstream,
 *   Upgrade and Connection passed on), `reuseport` so the kernel spreads
 *   connections over the workers, as wsha's workers will; access log off.
 * - HAProxy: `nbthread` = cores, mode http (it tunnels the upgrade by
 *   itself), tunnel timeout 1 h.
 * - node http-proxy: its own child process (http-proxy-server.ts).
 *
 * All three add X-Forwarded-For as wsha does. Each proxy is started in the
 * foreground as a child of the bench and stopped by its own PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../harness/ports';
import { forkListening, stopChild, type BenchProcess } from './bench-node';
import { openWebSocket } from './ws-load';

const START_TIMEOUT_MS = 15_000;
const HTTP_PROXY_SERVER = join(__dirname, 'http-proxy-server.js');
/** The open-file limit of one process on this machine; a proxy needs two files per tunnel. */
export const NOFILE_LIMIT = 20_000;

/** A proxy process started from a binary with a config file. */
export interface PeerProxy extends BenchProcess { logTail(): string }

/** nginx.conf for `workers` processes in front of `backendPort`. */
export function nginxConf(p: { dir: string; port: number; backendPort: number }): string {
  const t = (name: string) => join(p.dir, 'tmp', name);
  return `daemon off;
master_process on;
worker_processes auto;
worker_rlimit_nofile ${NOFILE_LIMIT};
user root;
pid ${join(p.dir, 'nginx.pid')};
error_log ${join(p.dir, 'error.log')} warn;
events { worker_connections ${NOFILE_LIMIT - 10}; }
http {
  access_log off;
  client_body_temp_path ${t('body')};
  proxy_temp_path ${t('proxy')};
  fastcgi_temp_path ${t('fastcgi')};
  uwsgi_temp_path ${t('uwsgi')};
  scgi_temp_path ${t('scgi')};
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream echo { server 127.0.0.1:${p.backendPort}; }
  server {
    listen 127.0.0.1:${p.port} reuseport backlog=4096;
    location / {
      proxy_pass http://echo;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }
  }
}
`;
}

/** haproxy.cfg with one thread per core in front of `backendPort`. */
export function haproxyCfg(p: { port: number; backendPort: number; threads: number; maxconn: number }): string {
  return `global
  nbthread ${p.threads}
  maxconn ${p.maxconn}
defaults
  mode http
  option forwardfor
  timeout connect 5s
  timeout client 1h
  timeout server 1h
  timeout tunnel 1h
  timeout http-request 10s
frontend fe
  bind 127.0.0.1:${p.port}
  default_backend be
backend be
  server echo 127.0.0.1:${p.backendPort}
`;
}

/** Waits until a WebSocket handshake through `port` succeeds; stops the proxy and throws otherwise. */
async function waitServing(proc: ChildProcess, port: number, what: string, logTail: () => string, stop: () => Promise<void>): Promise<void> {
  let exited = false;
  proc.once('exit', () => { exited = true; });
  try {
    await waitFor(async () => {
      if (exited) return 'exited';
      (await openWebSocket(`ws://127.0.0.1:${port}/`, { timeoutMs: 2000 })).terminate();
      return true;
    }, `${what} to proxy a WebSocket`, START_TIMEOUT_MS, 100);
    if (exited) throw new Error(`${what} exited with ${proc.exitCode ?? proc.signalCode} before serving`);
  } catch (err) {
    process.stderr.write(`${logTail()}\n`);
    await stop();
    throw err;
  }
}

/** Spawns `bin args` with its output in `dir/out.log`, then waits until it proxies a WebSocket. */
async function startBinary(what: string, bin: string, args: string[], dir: string, port: number, stopSignal: NodeJS.Signals): Promise<PeerProxy> {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  const keep = (b: Buffer) => { chunks.push(b); if (chunks.length > 200) chunks.shift(); };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const logTail = () => {
    let file = '';
    try { file = readFileSync(join(dir, 'error.log'), 'utf8'); } catch { /* no error log */ }
    return `${what}: ${Buffer.concat(chunks).toString('utf8')}${file}`.split('\n').slice(-20).join('\n');
  };
  const stop = async () => { await stopChild(proc, 3000, stopSignal); rmSync(dir, { recursive: true, force: true }); };
  await waitServing(proc, port, what, logTail, stop);
  return { pid: proc.pid!, port, stop, logTail };
}

/** Starts nginx (master and one worker per core) in front of `backendPort`. */
export async function startNginx(backendPort: number): Promise<PeerProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-bench-nginx-'));
  mkdirSync(join(dir, 'tmp'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConf({ dir, port, backendPort }));
  // -e: the early error log (before the config is read) goes to stderr instead of /var/log/nginx.
  return startBinary('nginx', 'nginx', ['-p', dir, '-c', conf, '-e', 'stderr'], dir, port, 'SIGTERM');
}

/** Starts HAProxy with one thread per core in front of `backendPort`. */
export async function startHaproxy(backendPort: number, maxconn: number): Promise<PeerProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-bench-haproxy-'));
  const port = await freePort();
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyCfg({ port, backendPort, threads: availableParallelism(), maxconn }));
  // -db: stay in the foreground; SIGUSR1 is HAProxy's soft stop, SIGTERM its hard stop.
  return startBinary('haproxy', 'haproxy', ['-db', '-f', cfg], dir, port, 'SIGTERM');
}

/** Forks node http-proxy in front of `backendPort`. */
export async function startHttpProxy(backendPort: number, execArgv: string[] = []): Promise<BenchProcess> {
  return forkListening(HTTP_PROXY_SERVER, [String(backendPort)], 'http-proxy', execArgv);
}
