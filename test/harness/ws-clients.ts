/**
 * WebSocket clients for failover tests: a client that keeps exchanging
 * messages through the VIP and reconnects when closed (recording each close
 * code and time), and a one-shot handshake probe.
 */
import WebSocket from 'ws';
import { sleep } from './ports';

/** Opens a WebSocket and resolves true on 'open', false on error/timeout (the socket is closed either way). */
export function handshake(url: string, timeoutMs = 500): Promise<{ ok: boolean; err?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
    let done = false;
    const finish = (ok: boolean, err?: string) => { if (done) return; done = true; ws.terminate(); resolve({ ok, err }); };
    ws.on('open', () => finish(true));
    ws.on('error', (e: NodeJS.ErrnoException) => finish(false, e.code ?? e.message));
    ws.on('unexpected-response', (_req, res) => finish(false, `HTTP ${res.statusCode}`));
  });
}

/** A client that stays connected through failovers. */
export class ReconnectingClient {
  ws: WebSocket | null = null;
  closes: Array<{ code: number; atMs: number }> = [];
  echoes = 0;
  echoesAfter = (t: number) => this.echoTimes.filter((x) => x >= t).length;
  echoTimes: number[] = [];
  connects = 0;
  failures: string[] = [];
  #stopped = false;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly url: string, readonly everyMs = 50) {}

  /** Connects (retrying for up to `timeoutMs`). */
  async start(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 10_000 && Date.now() < deadline && !this.#stopped; i++) {
      if (await this.#connect()) return;
      await sleep(5 + Math.random() * 20);
    }
    throw new Error(`client could not connect to ${this.url}`);
  }

  #connect(): Promise<boolean> {
    return new Promise((resolve) => {
      const ws = new WebSocket(this.url, { handshakeTimeout: 1000 });
      let opened = false;
      ws.on('open', () => {
        opened = true;
        this.ws = ws;
        this.connects++;
        this.#timer = setInterval(() => { if (ws.readyState === WebSocket.OPEN) ws.send(`m${this.#seq++}`); }, this.everyMs);
        resolve(true);
      });
      ws.on('message', () => { this.echoes++; this.echoTimes.push(Date.now()); });
      ws.on('error', (e: NodeJS.ErrnoException) => { this.failures.push(e.code ?? e.message); if (!opened) resolve(false); });
      ws.on('close', (code) => {
        clearInterval(this.#timer);
        if (!opened) return;
        this.closes.push({ code, atMs: Date.now() });
        this.ws = null;
        if (!this.#stopped) void this.start(10_000).catch(() => {});
      });
    });
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.ws?.terminate();
  }
}
