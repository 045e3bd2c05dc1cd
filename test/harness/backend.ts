/**
 * Real backends for tests, on free ports: a WebSocket echo server that also
 * answers plain HTTP, and reports which backend answered and what client
 * address and X-Forwarded-* headers it saw. Every message is echoed as-is;
 * the text `whoami` gets a JSON answer with the backend id instead, and
 * `flood N` makes it send N bytes in 64 KiB binary messages. Each
 * backend can speak PROXY protocol (expects a header) and TLS.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseProxyHeader, type ProxyHeader } from '../../node/listen/proxy-protocol';

/** What a backend saw on one request or handshake. */
export interface SeenRequest {
  kind: 'ws' | 'http';
  method: string;
  url: string;
  remoteAddress: string;
  headers: IncomingMessage['headers'];
  proxyHeader: ProxyHeader | null;
}

/** A running test backend. */
export interface TestBackend {
  id: string;
  port: number;
  url: string;
  seen: SeenRequest[];
  /** Open WebSocket connections now. */
  openSockets(): number;
  /** Every WebSocket connection accepted so far. */
  sockets: Set<WebSocket>;
  close(): Promise<void>;
}

/** Options of startBackend. */
export interface BackendOptions {
  id: string;
  /** Expect a PROXY protocol header on every connection. */
  proxyProtocol?: boolean;
  /** Answer WebSocket upgrades with this HTTP status instead of 101. */
  refuseUpgradeWith?: number;
  /** Delay plain HTTP answers by this many ms. */
  httpDelayMs?: number;
  host?: string;
}

/** Starts a ws + HTTP echo backend on a free port of 127.0.0.1. */
export async function startBackend(opts: BackendOptions): Promise<TestBackend> {
  const host = opts.host ?? '127.0.0.1';
  const seen: SeenRequest[] = [];
  const sockets = new Set<WebSocket>();
  const ppBySocket = new WeakMap<Socket, ProxyHeader>();
  const http: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(record('http', req, ppBySocket.get(req.socket) ?? null));
      const body = JSON.stringify({ backend: opts.id, method: req.method, url: req.url, body: Buffer.concat(chunks).toString('utf8'), headers: req.headers, remoteAddress: req.socket.remoteAddress, proxyHeader: ppBySocket.get(req.socket) ?? null });
      const send = () => { res.writeHead(200, { 'content-type': 'application/json', 'x-backend': opts.id }); res.end(body); };
      if (opts.httpDelayMs) setTimeout(send, opts.httpDelayMs); else send();
    });
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true, handleProtocols: (p) => p.values().next().value ?? false });
  http.on('upgrade', (req, socket, head) => {
    seen.push(record('ws', req, ppBySocket.get(req.socket as Socket) ?? null));
    if (opts.refuseUpgradeWith) {
      socket.end(`HTTP/1.1 ${opts.refuseUpgradeWith} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', (data, isBinary) => {
        const text = isBinary ? '' : data.toString();
        if (text.startsWith('flood ')) {
          // Sends that many bytes in 64 KiB binary messages at once, for backpressure tests.
          const chunk = Buffer.alloc(65536, 1);
          for (let left = Number(text.slice(6)); left > 0; left -= chunk.length) ws.send(chunk.subarray(0, Math.min(left, chunk.length)));
        } else if (text === 'whoami') {
          ws.send(JSON.stringify({ backend: opts.id, headers: req.headers, remoteAddress: req.socket.remoteAddress, proxyHeader: ppBySocket.get(req.socket as Socket) ?? null }));
        } else ws.send(data, { binary: isBinary });
      });
    });
  });
  // A raw front server so that a PROXY header can be read before HTTP parsing.
  const front = createNetServer((sock) => {
    if (!opts.proxyProtocol) { http.emit('connection', sock); return; }
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const r = parseProxyHeader(buf);
      if (r.state === 'need-more') return;
      sock.off('data', onData);
      if (r.state === 'invalid') { sock.destroy(); return; }
      ppBySocket.set(sock, r.header);
      sock.pause();
      const rest = buf.subarray(r.consumed);
      if (rest.length) sock.unshift(rest);
      http.emit('connection', sock);
      sock.resume();
    };
    sock.on('data', onData);
  });
  const conns = new Set<Socket>();
  front.on('connection', (s) => { conns.add(s); s.on('close', () => conns.delete(s)); });
  await new Promise<void>((resolve, reject) => { front.once('error', reject); front.listen(0, host, () => resolve()); });
  const port = (front.address() as { port: number }).port;
  return {
    id: opts.id,
    port,
    url: `http://${host}:${port}`,
    seen,
    sockets,
    openSockets: () => sockets.size,
    close: () => new Promise<void>((resolve) => {
      for (const ws of sockets) ws.terminate();
      for (const s of conns) s.destroy();
      wss.close();
      http.close();
      front.close(() => resolve());
    }),
  };
}

function record(kind: 'ws' | 'http', req: IncomingMessage, proxyHeader: ProxyHeader | null): SeenRequest {
  return { kind, method: req.method ?? '', url: req.url ?? '', remoteAddress: req.socket.remoteAddress ?? '', headers: req.headers, proxyHeader };
}
