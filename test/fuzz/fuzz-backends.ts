/**
 * The fuzzer's backends, in the fuzzer's own process: an HTTP and WebSocket
 * echo server that checks every request it receives (oracle.ts), and an
 * "odd" raw backend that answers upgrades in every wrong way (a 101 without
 * headers, a wrong Accept, a 426 that keeps the connection, garbage,
 * silence, a reset) and reports any byte that reaches it after an answer
 * that was not a valid 101.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { checkBackendRequest } from './oracle';
import { Rng } from './rng';

/** Counters and findings shared with the runner. */
export interface BackendReport {
  requests: number;
  upgrades: number;
  oddHandshakes: number;
  findings: string[];
}

/** A running backend. */
export interface FuzzBackend { url: string; close(): Promise<void> }

function listen(server: Server | NetServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

/** Echoes HTTP (JSON of what it saw) and WebSocket messages; checks each request. */
export async function startEchoBackend(report: BackendReport): Promise<FuzzBackend> {
  const sockets = new Set<Socket>();
  const http = createHttpServer((req, res) => {
    report.requests++;
    const p = checkBackendRequest(req);
    if (p) report.findings.push(`echo backend: ${p}`);
    let size = 0;
    req.on('data', (c: Buffer) => { size += c.length; });
    req.on('end', () => { const body = JSON.stringify({ url: req.url, size }); res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); });
    req.on('error', () => {});
  });
  // Idle keep-alive sockets from the node's agents go soon, so that the node's fd count settles quickly after a run.
  http.keepAliveTimeout = 1000;
  http.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  http.on('clientError', (_e, s) => s.destroy());
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  http.on('upgrade', (req, socket, head) => {
    report.upgrades++;
    const p = checkBackendRequest(req);
    if (p) report.findings.push(`echo backend (upgrade): ${p}`);
    socket.on('error', () => {});
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      ws.on('message', (d, binary) => ws.send(d, { binary }));
    });
  });
  const port = await listen(http);
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); for (const c of wss.clients) c.terminate(); wss.close(); http.close(() => r()); }),
  };
}

const ODD_ANSWERS = ['valid', 'bare101', 'wrongAccept', 'noConnection', '426keep', '200close', 'garbage', 'silence', 'reset'] as const;

/** Answers each upgrade in one of ODD_ANSWERS; reports bytes that arrive after an answer that was not a valid 101. */
export async function startOddBackend(report: BackendReport, seed: number): Promise<FuzzBackend> {
  const rng = new Rng(seed);
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = '';
    let answered: (typeof ODD_ANSWERS)[number] | null = null;
    s.on('data', (d) => {
      if (answered !== null) {
        if (answered !== 'valid' && answered !== 'silence') report.findings.push(`odd backend: ${d.length} bytes arrived after a ${answered} answer: ${JSON.stringify(d.toString('latin1').slice(0, 60))}`);
        return;
      }
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      // A plain request (a mutated upgrade) may share a pooled keep-alive connection with the next one: only upgrades are checked.
      const upgrade = /\r\nupgrade:[ \t]*websocket/i.test(buf.slice(0, end));
      if (upgrade) report.oddHandshakes++;
      if (upgrade && buf.length > end + 4) report.findings.push(`odd backend: ${buf.length - end - 4} bytes came with the handshake head`);
      answered = rng.pick(ODD_ANSWERS);
      if (!upgrade) {
        buf = '';
        if (answered !== 'reset' && answered !== 'silence') s.write('HTTP/1.1 426 Upgrade Required\r\nContent-Length: 4\r\n\r\nnope');
        else if (answered === 'reset') s.resetAndDestroy();
        answered = null;
        return;
      }
      const key = /\r\nSec-WebSocket-Key: *([^\r]+)/i.exec(buf)?.[1] ?? '';
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      switch (answered) {
        case 'valid': s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`); break;
        case 'bare101': s.write('HTTP/1.1 101 Switching Protocols\r\n\r\n'); break;
        case 'wrongAccept': s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n'); break;
        case 'noConnection': s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`); break;
        case '426keep': s.write('HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 4\r\n\r\nnope'); break;
        case '200close': s.end('HTTP/1.1 200 OK\r\n\r\nclose-delimited body'); break;
        case 'garbage': s.write(rng.bytes(1 + rng.int(64))); break;
        case 'silence': break;
        case 'reset': s.resetAndDestroy(); break;
      }
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}
