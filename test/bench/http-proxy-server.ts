/**
 * Child-process peer for the benchmark: node http-proxy (the npm package,
 * the usual WebSocket reverse proxy written for Node) in front of the echo
 * backend, on the same runtime as wsha. It answers plain HTTP with
 * proxy.web and upgrades with proxy.ws (which pipes the two sockets), and
 * adds X-Forwarded-* as wsha, nginx and HAProxy do in the bench.
 * Usage: node http-proxy-server.js BACKEND_PORT; reports `{ port }` over IPC.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** The part of http-proxy's API used here (the package ships no types). */
interface HttpProxy {
  web(req: IncomingMessage, res: ServerResponse): void;
  ws(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  on(event: 'error', fn: (err: Error, req: IncomingMessage, target: ServerResponse | Duplex) => void): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const httpProxy = require('http-proxy') as { createProxyServer(o: { target: string; ws: boolean; xfwd: boolean }): HttpProxy };

function main(): void {
  const backendPort = Number(process.argv[2]);
  if (!Number.isInteger(backendPort) || backendPort <= 0) { process.stderr.write('usage: http-proxy-server BACKEND_PORT\n'); process.exit(2); }
  const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${backendPort}`, ws: true, xfwd: true });
  proxy.on('error', (_err, _req, target) => {
    if ('destroy' in target && typeof target.destroy === 'function') target.destroy();
  });
  const srv = createServer((req, res) => proxy.web(req, res));
  srv.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => proxy.ws(req, socket, head));
  srv.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => process.send?.({ port: (srv.address() as { port: number }).port }));
  process.on('disconnect', () => process.exit(0));
}

main();
