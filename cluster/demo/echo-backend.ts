#!/usr/bin/env node
/**
 * A small echo/chat backend for the demo, the tests and docker-compose:
 * WebSocket messages are echoed back as `[ID] text` and, when they start
 * with `/all `, broadcast to every client of this backend; plain HTTP GET
 * answers 200 with the backend id (for `http` health checks).
 *
 *   node dist/cluster/demo/echo-backend.js PORT [ID] [HOST]
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A running echo backend. */
export interface EchoBackend {
  id: string;
  port: number;
  server: Server;
  /** Messages received so far (all clients). */
  received(): number;
  close(): Promise<void>;
}

/** Largest message the demo backend accepts. */
const MAX_PAYLOAD_BYTES = 64 * 1024;

/** Starts an echo/chat backend on HOST:PORT (port 0 picks a free one). */
export function startEchoBackend(port: number, id = `echo-${port}`, host = '127.0.0.1'): Promise<EchoBackend> {
  let received = 0;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${id} ok ${req.method} ${req.url}\n`);
  });
  const wss = new WebSocketServer({ server, maxPayload: MAX_PAYLOAD_BYTES });
  wss.on('connection', (ws: WebSocket) => {
    ws.send(`[${id}] hello`);
    ws.on('message', (data, isBinary) => {
      received++;
      const text = isBinary ? `${(data as Buffer).length} bytes` : data.toString();
      if (text.startsWith('/all ')) {
        for (const c of wss.clients) if (c.readyState === c.OPEN) c.send(`[${id}] ${text.slice(5)}`);
      } else {
        ws.send(`[${id}] ${text}`);
      }
    });
    ws.on('error', () => ws.terminate());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const bound = (server.address() as AddressInfo).port;
      resolve({
        id, port: bound, server,
        received: () => received,
        close: () => new Promise<void>((r) => {
          for (const c of wss.clients) c.terminate();
          wss.close();
          server.close(() => r());
          server.closeAllConnections();
        }),
      });
    });
  });
}

if (require.main === module) {
  const port = Number(process.argv[2] ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write('usage: echo-backend PORT [ID] [HOST]\n');
    process.exit(2);
  }
  startEchoBackend(port, process.argv[3], process.argv[4] ?? '127.0.0.1').then((b) => {
    process.stdout.write(`echo backend ${b.id} listening on ${process.argv[4] ?? '127.0.0.1'}:${b.port}\n`);
    const stop = () => { void b.close().then(() => process.exit(0)); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }, (err: Error) => {
    process.stderr.write(`echo backend: ${err.message}\n`);
    process.exit(1);
  });
}
