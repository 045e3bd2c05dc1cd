/**
 * WebSocket load for the benchmark, the same for every target:
 *
 * - echo load: a set of open connections, each with `inFlight` messages
 *   outstanding, sends the same payload again as soon as an echo arrives.
 *   It counts the echoes and records every round trip within the measured
 *   window (after a warm-up); `window` hooks run exactly at the window's
 *   edges (the caller samples the proxy's CPU there).
 * - handshake load: batches of WebSocket handshakes opened together, closed,
 *   and the next batch, for a bounded time.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/** Shape of one echo load run. */
export interface EchoLoadOptions {
  payloadBytes: number;
  /** Messages outstanding per connection. */
  inFlight: number;
  warmupMs: number;
  durationMs: number;
}

/** Called at the start and the end of the measured window. */
export interface WindowHooks { start(): void; end(): void }

/** Echoes within the measured window, and where their round trips went. */
export interface EchoLoadResult {
  messages: number;
  durationMs: number;
  /** Round trips in ms; the first `samples` entries are valid. */
  latenciesMs: Float64Array;
  samples: number;
}

/** Upper bound on recorded round trips per run (8 bytes each). */
const MAX_SAMPLES = 2_000_000;
const OPEN_TIMEOUT_MS = 20_000;
/** After a run, how long its last echoes may take to come back before the connections are reused. */
const QUIESCE_TIMEOUT_MS = 5000;

/** Opens a WebSocket and resolves once it is open; rejects on error, unexpected response or timeout. */
export function openWebSocket(url: string, opts: { localAddress?: string; timeoutMs?: number } = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress: opts.localAddress, handshakeTimeout: opts.timeoutMs ?? OPEN_TIMEOUT_MS, rejectUnauthorized: false });
    const fail = (err: Error) => { ws.removeAllListeners('open'); ws.terminate(); reject(err); };
    ws.once('open', () => { ws.removeListener('error', fail); ws.on('error', noop); resolve(ws); });
    ws.once('error', fail);
    ws.once('unexpected-response', (_req, res) => fail(new Error(`handshake answered HTTP ${res.statusCode}`)));
  });
}

function noop(): void {}

/** Opens `n` connections to `url`, 50 at a time. */
export async function openClients(url: string, n: number): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  try {
    for (let i = 0; i < n; i += 50) out.push(...await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => openWebSocket(url))));
  } catch (err) {
    await closeAll(out);
    throw err;
  }
  return out;
}

/** Per-connection send times of the messages in flight (a ring; echoes come back in order). */
class InFlight {
  readonly sentAt: Float64Array;
  head = 0;
  tail = 0;
  count = 0;
  constructor(n: number) { this.sentAt = new Float64Array(n); }
  push(t: number): void { this.sentAt[this.tail] = t; this.tail = (this.tail + 1) % this.sentAt.length; this.count++; }
  shift(): number { const t = this.sentAt[this.head]!; this.head = (this.head + 1) % this.sentAt.length; this.count--; return t; }
}

/** Runs the echo load over `sockets` (already open; they stay open and quiet afterwards). */
export async function runEchoLoad(sockets: readonly WebSocket[], opts: EchoLoadOptions, window?: WindowHooks): Promise<EchoLoadResult> {
  const payload = Buffer.alloc(opts.payloadBytes, 0x61);
  const latencies = new Float64Array(MAX_SAMPLES);
  const rings = sockets.map(() => new InFlight(opts.inFlight));
  let recording = false;
  let stopped = false;
  let messages = 0;
  sockets.forEach((ws, i) => {
    const ring = rings[i]!;
    ws.removeAllListeners('message');
    ws.on('message', () => {
      const now = performance.now();
      const sent = ring.shift();
      if (recording) {
        if (messages < MAX_SAMPLES) latencies[messages] = now - sent;
        messages++;
      }
      if (stopped) return;
      ring.push(now);
      ws.send(payload);
    });
  });
  for (let k = 0; k < opts.inFlight; k++) {
    sockets.forEach((ws, i) => { rings[i]!.push(performance.now()); ws.send(payload); });
  }
  await sleep(opts.warmupMs);
  window?.start();
  recording = true;
  const t0 = performance.now();
  await sleep(opts.durationMs);
  recording = false;
  const durationMs = performance.now() - t0;
  window?.end();
  stopped = true;
  // Let the echoes still in flight come back, so that the next run starts on quiet connections.
  const deadline = Date.now() + QUIESCE_TIMEOUT_MS;
  while (rings.some((r) => r.count > 0) && Date.now() < deadline) await sleep(20);
  for (const ws of sockets) ws.removeAllListeners('message');
  return { messages, durationMs, latenciesMs: latencies, samples: Math.min(messages, MAX_SAMPLES) };
}

/** Shape of one handshake load run. */
export interface HandshakeLoadOptions {
  /** Handshakes opened together. */
  batch: number;
  durationMs: number;
  maxBatches: number;
  /** Clients bind to 127.0.0.2 .. 127.0.0.(1+n), so that ports in TIME_WAIT never run out. */
  sourceAddresses: number;
  timeoutMs: number;
}

/** Handshakes completed (and failed) within the run. */
export interface HandshakeLoadResult { opened: number; failed: number; durationMs: number }

/** How long after the last batch the proxy gets to finish its closes before the window ends. */
const CLOSE_SETTLE_MS = 200;

/**
 * Opens `batch` WebSockets at once, waits for all of them, terminates them,
 * then the next batch, until `durationMs` or `maxBatches`. The window (CPU)
 * covers the closes too: a connection's cost is its handshake and its close.
 */
export async function runHandshakeLoad(url: string, opts: HandshakeLoadOptions, window?: WindowHooks): Promise<HandshakeLoadResult> {
  let opened = 0;
  let failed = 0;
  let next = 0;
  window?.start();
  const t0 = performance.now();
  for (let b = 0; b < opts.maxBatches && performance.now() - t0 < opts.durationMs; b++) {
    const settled = await Promise.allSettled(Array.from({ length: opts.batch }, () =>
      openWebSocket(url, { localAddress: `127.0.0.${2 + (next++ % opts.sourceAddresses)}`, timeoutMs: opts.timeoutMs })));
    const open: WebSocket[] = [];
    for (const s of settled) { if (s.status === 'fulfilled') open.push(s.value); else failed++; }
    opened += open.length;
    await closeAll(open);
  }
  const durationMs = performance.now() - t0;
  await sleep(CLOSE_SETTLE_MS);
  window?.end();
  return { opened, failed, durationMs };
}

/** Closes sockets and waits (bounded) until they are all closed. */
export async function closeAll(sockets: readonly WebSocket[], timeoutMs = 10_000): Promise<void> {
  const pending = sockets.filter((ws) => ws.readyState !== WebSocket.CLOSED).map((ws) => new Promise<void>((resolve) => {
    ws.once('close', () => resolve());
    ws.terminate();
  }));
  // The bound's timer is cleared once all are closed: left running, it kept the process alive for its whole length.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(pending), new Promise<void>((r) => { timer = setTimeout(r, timeoutMs); })]);
  clearTimeout(timer);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

/** Opens `connections` clients to `url`, runs the echo load with one message in flight each, and closes them (auth-cost.ts). */
export async function runEchoLoadAt(url: string, opts: { connections: number; payloadBytes: number; warmupMs: number; durationMs: number }): Promise<EchoLoadResult> {
  const sockets = await openClients(url, opts.connections);
  try {
    return await runEchoLoad(sockets, { payloadBytes: opts.payloadBytes, inFlight: 1, warmupMs: opts.warmupMs, durationMs: opts.durationMs });
  } finally {
    await closeAll(sockets);
  }
}
