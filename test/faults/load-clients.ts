/**
 * The load of the fault matrix, run as its own process in the client
 * namespace:
 *
 *   node load-clients.js ws://VIP:PORT/ COUNT MESSAGE_MS
 *
 * COUNT WebSocket clients each send a numbered message every MESSAGE_MS and
 * expect it echoed (the backend echoes in order, so sent − echoed on a
 * connection is what is in flight). A connection that closes or errors
 * without the client asking is a drop, and its in-flight messages are lost;
 * a connection with messages unanswered for STALL_MS is also a drop (a
 * half-open connection to a host that went away). Every dropped client
 * reconnects with jittered backoff. It prints JSON lines:
 *   {"type":"connected","count":N,"at":…}            all clients open at the start
 *   {"type":"drop","at":…,"how":"close-1006"|"error-ECONNRESET"|"stall","lost":K,"host":"p1"}
 *   {"type":"final",…}                               on `stop` (stdin): counters, after a drain of in-flight echoes
 */
import WebSocket from 'ws';
import { createInterface } from 'node:readline';

const url = process.argv[2] as string;
const count = Number(process.argv[3] ?? 200);
const messageMs = Number(process.argv[4] ?? 250);
/** Messages unanswered this long make a connection count as dropped (longer than any stall the matrix expects to ride out). */
const STALL_MS = 8000;
/** Handshake timeout of a (re)connect. */
const CONNECT_TIMEOUT_MS = 2000;
/** Longest wait for in-flight echoes at stop. */
const DRAIN_MS = 2000;
const HARD_LIMIT_MS = 60 * 60_000;

const totals = { sent: 0, echoed: 0, lost: 0, drops: 0, connects: 0, connectFailures: 0, mismatched: 0 };
const dropsBy: Record<string, number> = {};
const connectFailuresBy: Record<string, number> = {};
let stopping = false;

function emit(o: object): void { process.stdout.write(`${JSON.stringify(o)}\n`); }
function bump(m: Record<string, number>, k: string): void { m[k] = (m[k] ?? 0) + 1; }

class Client {
  ws: WebSocket | null = null;
  host = '';
  sent = 0;
  echoed = 0;
  lastProgress = 0;
  failuresInRow = 0;
  #timer: NodeJS.Timeout | undefined;

  connect(): void {
    if (stopping) return;
    let opened = false;
    let settled = false;
    const ws = new WebSocket(url, { handshakeTimeout: CONNECT_TIMEOUT_MS });
    ws.on('open', () => { opened = true; this.#onOpen(ws); });
    ws.on('message', (data) => this.#onMessage(String(data)));
    const end = (how: string) => {
      if (settled) return;
      settled = true;
      if (!opened) { totals.connectFailures++; bump(connectFailuresBy, how); this.#retry(); return; }
      this.#onDrop(how);
    };
    ws.on('unexpected-response', (_req, res) => { end(`http-${res.statusCode}`); ws.terminate(); });
    ws.on('error', (err: NodeJS.ErrnoException) => end(`error-${err.code ?? 'other'}`));
    ws.on('close', (code) => end(`close-${code}`));
  }

  inFlight(): number { return this.sent - this.echoed; }

  /** Drops a connection whose echoes stopped coming; true when it did. */
  checkStall(now: number): boolean {
    if (!this.ws || this.inFlight() === 0 || now - this.lastProgress < STALL_MS) return false;
    const ws = this.ws;
    this.#onDrop('stall');
    ws.removeAllListeners('close');
    ws.removeAllListeners('error');
    ws.on('error', () => { /* terminated */ });
    ws.terminate();
    return true;
  }

  stopSending(): void { clearInterval(this.#timer); }

  close(): void {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.removeAllListeners('close');
    ws.removeAllListeners('error');
    ws.on('error', () => { /* closing */ });
    ws.close(1000);
    setTimeout(() => ws.terminate(), 500).unref();
  }

  #onOpen(ws: WebSocket): void {
    this.ws = ws;
    this.sent = 0;
    this.echoed = 0;
    this.failuresInRow = 0;
    this.lastProgress = Date.now();
    totals.connects++;
    this.#timer = setInterval(() => {
      if (stopping || ws.readyState !== WebSocket.OPEN) return;
      if (this.inFlight() === 0) this.lastProgress = Date.now();
      ws.send(String(this.sent++));
      totals.sent++;
    }, messageMs);
  }

  #onMessage(text: string): void {
    if (text.startsWith('hello from ')) { this.host = text.slice(11); return; }
    if (text !== String(this.echoed)) totals.mismatched++;
    this.echoed++;
    totals.echoed++;
    this.lastProgress = Date.now();
  }

  #onDrop(how: string): void {
    clearInterval(this.#timer);
    this.ws = null;
    if (stopping) return;
    const lost = this.inFlight();
    totals.drops++;
    totals.lost += lost;
    bump(dropsBy, how);
    emit({ type: 'drop', at: Date.now(), how, lost, host: this.host });
    this.sent = this.echoed = 0;
    this.#retry();
  }

  #retry(): void {
    if (stopping) return;
    const backoff = Math.min(1000, 25 * 2 ** Math.min(this.failuresInRow++, 6));
    setTimeout(() => this.connect(), backoff / 2 + Math.random() * backoff);
  }
}

const clients = Array.from({ length: count }, () => new Client());
clients.forEach((c, i) => setTimeout(() => c.connect(), i * 5));
const announce = setInterval(() => {
  if (clients.every((c) => c.ws?.readyState === WebSocket.OPEN)) { clearInterval(announce); emit({ type: 'connected', count, at: Date.now() }); }
}, 50);
const stallTimer = setInterval(() => { const now = Date.now(); for (const c of clients) c.checkStall(now); }, 500);

async function stop(): Promise<void> {
  if (stopping) return;
  clearInterval(announce);
  clearInterval(stallTimer);
  for (const c of clients) c.stopSending();
  const deadline = Date.now() + DRAIN_MS;
  while (Date.now() < deadline && clients.some((c) => c.ws && c.inFlight() > 0)) await new Promise((r) => setTimeout(r, 50));
  stopping = true;
  const hosts: Record<string, number> = {};
  let open = 0, unanswered = 0;
  for (const c of clients) {
    if (c.ws?.readyState === WebSocket.OPEN) { open++; bump(hosts, c.host || '?'); }
    unanswered += c.ws ? c.inFlight() : 0;
  }
  emit({ type: 'final', clients: count, ...totals, lost: totals.lost + unanswered, unansweredAtEnd: unanswered, dropsBy, connectFailuresBy, openAtEnd: open, hostsAtEnd: hosts });
  for (const c of clients) c.close();
  process.stdout.write('', () => setTimeout(() => process.exit(0), 100));
}

setTimeout(() => void stop(), HARD_LIMIT_MS).unref();
process.on('SIGTERM', () => void stop());
createInterface({ input: process.stdin }).on('line', (l) => { if (l.trim() === 'stop') void stop(); }).on('close', () => void stop());
