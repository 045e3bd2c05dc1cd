/**
 * The demo's client: one WebSocket through the VIP, a message every
 * `intervalMs`, every echo printed; when the connection drops it
 * reconnects at once (as a real app does on close 1012 or a reset) and
 * says how long the VIP was unanswered.
 */
import WebSocket from 'ws';

/** What the client saw, printed at the end. */
export interface DemoClientStats { sent: number; answered: number; reconnects: number; longestGapMs: number }

/** Spacing of reconnect attempts while the VIP does not answer. */
const RECONNECT_EVERY_MS = 50;

/** A reconnecting WebSocket client that sends a numbered message every interval. */
export class DemoClient {
  readonly stats: DemoClientStats = { sent: 0, answered: 0, reconnects: 0, longestGapMs: 0 };
  #ws: WebSocket | null = null;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #downSince: number | null = null;
  #n = 0;

  constructor(private readonly url: string, private readonly intervalMs: number, private readonly say: (line: string) => void) {}

  start(): void {
    this.#connect();
    this.#timer = setInterval(() => this.#send(), this.intervalMs);
  }

  #connect(): void {
    if (this.#stopped) return;
    const ws = new WebSocket(this.url, { handshakeTimeout: 2000 });
    this.#ws = ws;
    ws.on('open', () => {
      if (this.#downSince !== null) {
        const gap = Date.now() - this.#downSince;
        this.stats.reconnects++;
        this.stats.longestGapMs = Math.max(this.stats.longestGapMs, gap);
        this.say(`client: reconnected through the VIP after ${gap} ms`);
        this.#downSince = null;
      } else {
        this.say(`client: connected to ${this.url}`);
      }
    });
    ws.on('message', (data) => {
      const text = data.toString();
      if (!text.endsWith(' hello')) this.stats.answered++;
      this.say(`client: <- ${text}`);
    });
    ws.on('close', (code) => {
      if (this.#stopped) return;
      if (this.#downSince === null) {
        this.#downSince = Date.now();
        this.say(`client: connection closed (${code}${code === 1012 ? ' service restart' : code === 1006 ? ' abnormal' : ''}), reconnecting`);
      }
      setTimeout(() => this.#connect(), RECONNECT_EVERY_MS);
    });
    ws.on('error', () => { /* close follows */ });
  }

  #send(): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    this.#n++;
    this.stats.sent++;
    ws.send(`message ${this.#n}`);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#ws?.terminate();
  }
}
