/**
 * Tools for hostile-input tests: a raw client that writes exact bytes on one
 * connection (in one write or several) and reads until a condition, the
 * server's close or a time limit; and raw TCP backends that record every
 * byte they receive and answer through a script, for backends that
 * misbehave on purpose (a 426 that keeps the connection, a status
 * reflector that answers 101 without headers, a wrong Accept).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createHash } from 'node:crypto';

/** What a raw exchange produced. */
export interface Conversation { response: string; closed: boolean; elapsedMs: number }

/**
 * Connects to 127.0.0.1:`port`, writes each part of `parts` (with `gapMs`
 * between parts), and collects the answer until `until(answer)` holds, the
 * server closes, or `timeoutMs` passes.
 */
export function converse(port: number, parts: string | Buffer | Array<string | Buffer>, opts: { until?: (answer: string) => boolean; timeoutMs?: number; gapMs?: number } = {}): Promise<Conversation> {
  const list = Array.isArray(parts) ? parts : [parts];
  return new Promise((resolve) => {
    const started = Date.now();
    const s = connect(port, '127.0.0.1');
    let response = '';
    let done = false;
    const finish = (closed: boolean) => { if (done) return; done = true; clearTimeout(timer); s.destroy(); resolve({ response, closed, elapsedMs: Date.now() - started }); };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 5000);
    s.on('connect', async () => {
      for (let i = 0; i < list.length && !s.destroyed; i++) {
        s.write(typeof list[i] === 'string' ? Buffer.from(list[i] as string, 'latin1') : list[i]);
        if (opts.gapMs && i < list.length - 1) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
    });
    s.on('data', (d) => { response += d.toString('latin1'); if (opts.until?.(response)) finish(false); });
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
  });
}

/** The status codes of every response head in a raw answer, in order. */
export function statuses(answer: string): number[] {
  return [...answer.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}

/** Resolves true once `n` response heads are in the answer. */
export const responses = (n: number) => (answer: string) => statuses(answer).length >= n && answer.lastIndexOf('\r\n\r\n') > answer.lastIndexOf('HTTP/1.');

/** One connection a raw backend accepted, with everything it received so far. */
export interface RawConnection { socket: Socket; received: string }

/** A raw TCP backend. */
export interface RawBackend {
  port: number;
  url: string;
  connections: RawConnection[];
  /** Everything every connection received, concatenated. */
  received(): string;
  close(): Promise<void>;
}

/**
 * Starts a raw backend on 127.0.0.1: `onData(conn, chunk)` is called for
 * each chunk with the connection's whole input so far in `conn.received`.
 */
export async function startRawBackend(onData: (conn: RawConnection, chunk: string) => void = () => {}): Promise<RawBackend> {
  const connections: RawConnection[] = [];
  const server: Server = createServer((socket) => {
    const conn: RawConnection = { socket, received: '' };
    connections.push(conn);
    socket.on('error', () => {});
    socket.on('data', (d) => { conn.received += d.toString('latin1'); onData(conn, d.toString('latin1')); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connections,
    received: () => connections.map((c) => c.received).join(''),
    close: () => new Promise<void>((r) => { for (const c of connections) c.socket.destroy(); server.close(() => r()); }),
  };
}

/** The Sec-WebSocket-Accept for a key, as a correct backend computes it. */
export function acceptOf(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/** The Sec-WebSocket-Key in a raw request head, or ''. */
export function keyIn(head: string): string {
  return /\r\nSec-WebSocket-Key: *([^\r]+)\r\n/i.exec(head)?.[1]?.trim() ?? '';
}

/** A masked client text frame (mask key zero, so the payload bytes are as given). */
export function maskedText(text: string): Buffer {
  const p = Buffer.from(text, 'utf8');
  if (p.length > 125) throw new RangeError('short frames only');
  return Buffer.concat([Buffer.from([0x81, 0x80 | p.length, 0, 0, 0, 0]), p]);
}
