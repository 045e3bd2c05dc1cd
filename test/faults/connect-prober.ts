/**
 * The connect prober of the fault matrix, run in the client namespace:
 *
 *   node connect-prober.js ws://VIP:PORT/ EVERY_MS
 *
 * Every EVERY_MS it starts a fresh attempt (new TCP connection and WebSocket
 * handshake, then the backend's greeting `hello from HOST`, which names the
 * proxy host that answered), whether or not earlier attempts have finished.
 * Each attempt prints one JSON line with its start and end (wall-clock ms,
 * shared by every namespace of the machine):
 *   {"t0":…,"t1":…,"who":"p2"}  or  {"t0":…,"t1":…,"err":"refused"|"reset"|"timeout"|…}
 * Stops on `stop` (stdin), SIGTERM, or its own hard limit.
 */
import WebSocket from 'ws';
import { createInterface } from 'node:readline';

const url = process.argv[2] as string;
const everyMs = Number(process.argv[3] ?? 20);
/** An attempt without a greeting by then counts as timed out (a blackholed SYN, a stopped process). */
const ATTEMPT_TIMEOUT_MS = 500;
/** Attempts in flight at most (a blackholed VIP would otherwise pile them up). */
const MAX_IN_FLIGHT = 40;
const HARD_LIMIT_MS = 60 * 60_000;
let inFlight = 0;

/** Short class of a failed attempt. */
export function classify(code: string): string {
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  if (/timed out|ETIMEDOUT/i.test(code)) return 'timeout';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'unreachable';
  return code;
}

function attempt(): void {
  if (inFlight >= MAX_IN_FLIGHT) { process.stdout.write(`${JSON.stringify({ t0: Date.now(), t1: Date.now(), err: 'skipped' })}\n`); return; }
  inFlight++;
  const t0 = Date.now();
  let done = false;
  const ws = new WebSocket(url, { handshakeTimeout: ATTEMPT_TIMEOUT_MS });
  const guard = setTimeout(() => finish({ err: 'timeout' }), ATTEMPT_TIMEOUT_MS + 20);
  function finish(o: { who?: string; err?: string }): void {
    if (done) return;
    done = true;
    inFlight--;
    clearTimeout(guard);
    process.stdout.write(`${JSON.stringify({ t0, t1: Date.now(), ...o })}\n`);
    ws.terminate();
  }
  ws.on('message', (data) => finish({ who: String(data).replace(/^hello from /, '') }));
  ws.on('unexpected-response', (_req, res) => finish({ err: `http-${res.statusCode}` }));
  ws.on('error', (err: NodeJS.ErrnoException) => finish({ err: classify(err.code ?? err.message) }));
  ws.on('close', () => finish({ err: 'closed' }));
}

const timer = setInterval(attempt, everyMs);
function stop(): void { clearInterval(timer); setTimeout(() => process.exit(0), ATTEMPT_TIMEOUT_MS + 50); }
setTimeout(stop, HARD_LIMIT_MS).unref();
process.on('SIGTERM', stop);
createInterface({ input: process.stdin }).on('line', (l) => { if (l.trim() === 'stop') stop(); }).on('close', stop);
