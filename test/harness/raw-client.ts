/**
 * Raw TCP clients for bad-input tests: send exact bytes (optionally slowly)
 * and collect whatever comes back until the server closes or a time limit.
 */
import { connect, type Socket } from 'node:net';

/** What the server did with a raw exchange. */
export interface RawResult { response: string; closed: boolean; elapsedMs: number }

/** Connects, sends `data`, and collects the answer until close or `timeoutMs`. */
export function rawExchange(port: number, data: string | Buffer, timeoutMs = 5000, host = '127.0.0.1'): Promise<RawResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = connect(port, host);
    let response = '';
    let done = false;
    const finish = (closed: boolean) => { if (done) return; done = true; clearTimeout(timer); s.destroy(); resolve({ response, closed, elapsedMs: Date.now() - started }); };
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.on('connect', () => s.write(data));
    s.on('data', (d) => { response += d.toString('latin1'); });
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
  });
}

/** Sends `data` one byte every `everyMs`, until the server closes (or all is sent and `timeoutMs` passes). */
export function slowExchange(port: number, data: string, everyMs: number, timeoutMs: number): Promise<RawResult & { bytesSent: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s: Socket = connect(port, '127.0.0.1');
    let response = '';
    let sent = 0;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearInterval(drip); clearTimeout(timer); s.destroy();
      resolve({ response, closed, elapsedMs: Date.now() - started, bytesSent: sent });
    };
    const drip = setInterval(() => { if (sent < data.length && !s.destroyed) s.write(data[sent++]); }, everyMs);
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.on('data', (d) => { response += d.toString('latin1'); });
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
  });
}

/** A valid WebSocket upgrade request head. */
export function upgradeRequest(path = '/', extra: Record<string, string> = {}, drop: string[] = []): string {
  const headers: Record<string, string> = {
    Host: 'example.test',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
    ...extra,
  };
  for (const d of drop) delete headers[d];
  return `GET ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}
