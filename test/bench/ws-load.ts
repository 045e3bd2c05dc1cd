/**
 * Closed-loop WebSocket echo load for the benchmark: `connections` clients,
 * each with one message in flight, send the same payload again as soon as
 * its echo arrives. Counts messages and records every round trip measured
 * after the warm-up, so direct and proxied runs see exactly the same load.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/** Shape of one load run. */
export interface EchoLoadOptions {
  connections: number;
  payloadBytes: number;
  warmupMs: number;
  durationMs: number;
}

/** Messages echoed within the measured window, and where their round trips went. */
export interface EchoLoadResult {
  messages: number;
  durationMs: number;
  /** Round trips in ms; only the first `messages` entries (capped at the array length) are valid. */
  latenciesMs: Float64Array;
  samples: number;
}

/** Upper bound on recorded round trips per run (8 bytes each). */
const MAX_SAMPLES = 4_000_000;
const OPEN_TIMEOUT_MS = 20_000;

interface Client { ws: WebSocket; sentAt: number }

/** Opens a WebSocket and resolves once it is open; rejects on error, unexpected response or timeout. */
export function openWebSocket(url: string, opts: { localAddress?: string; timeoutMs?: number } = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // wss:// in the bench always means the node's self-signed development certificate.
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress: opts.localAddress, handshakeTimeout: opts.timeoutMs ?? OPEN_TIMEOUT_MS, rejectUnauthorized: false });
    const fail = (err: Error) => { ws.removeAllListeners('open'); ws.terminate(); reject(err); };
    ws.once('open', () => { ws.removeListener('error', fail); ws.on('error', noop); resolve(ws); });
    ws.once('error', fail);
    ws.once('unexpected-response', (_req, res) => fail(new Error(`handshake answered HTTP ${res.statusCode}`)));
  });
}

function noop(): void {}

/** Runs the echo load against `url` and closes its connections afterwards. */
export async function runEchoLoad(url: string, opts: EchoLoadOptions): Promise<EchoLoadResult> {
  const payload = Buffer.alloc(opts.payloadBytes, 0x61);
  const latencies = new Float64Array(MAX_SAMPLES);
  const clients: Client[] = [];
  try {
    for (let i = 0; i < opts.connections; i++) clients.push({ ws: await openWebSocket(url), sentAt: 0 });
    let recording = false;
    let stopped = false;
    let messages = 0;
    for (const c of clients) {
      c.ws.on('message', () => {
        const now = performance.now();
        if (recording) {
          if (messages < MAX_SAMPLES) latencies[messages] = now - c.sentAt;
          messages++;
        }
        if (stopped) return;
        c.sentAt = now;
        c.ws.send(payload);
      });
    }
    for (const c of clients) { c.sentAt = performance.now(); c.ws.send(payload); }
    await sleep(opts.warmupMs);
    recording = true;
    const t0 = performance.now();
    await sleep(opts.durationMs);
    recording = false;
    const durationMs = performance.now() - t0;
    stopped = true;
    return { messages, durationMs, latenciesMs: latencies, samples: Math.min(messages, MAX_SAMPLES) };
  } finally {
    await closeAll(clients.map((c) => c.ws));
  }
}

/** Closes sockets and waits (bounded) until they are all closed. */
export async function closeAll(sockets: WebSocket[], timeoutMs = 10_000): Promise<void> {
  const pending = sockets.filter((ws) => ws.readyState !== WebSocket.CLOSED).map((ws) => new Promise<void>((resolve) => {
    ws.once('close', () => resolve());
    ws.terminate();
  }));
  await Promise.race([Promise.all(pending), sleep(timeoutMs)]);
}

function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }
