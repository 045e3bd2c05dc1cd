/**
 * A client that keeps trying WebSocket handshakes on a URL, a new attempt
 * every `everyMs` whether or not earlier ones have finished (an attempt whose
 * SYN went to a host that lost the address must not hide the new owner's
 * first answer; at most MAX_IN_FLIGHT at once):
 * `node netns-probe.js ws://VIP:PORT/ EVERY_MS`. Each answered handshake's
 * greeting (`hello from NAME`) names the host behind the VIP. It prints one
 * JSON line per change of outcome, and one per answered handshake after a
 * failure, with the wall-clock time: {"ts":…,"who":"b","tookMs":…} (from the attempt's start to the greeting)
 * or {"ts":…,"err":"ECONNREFUSED"}.
 * Wall-clock time is shared by every namespace of the machine, so the test
 * can subtract the moment it caused a failure.
 */
import WebSocket from 'ws';

const url = process.argv[2] as string;
const everyMs = Number(process.argv[3] ?? 5);
/** A handshake that takes longer than this counts as failed (the old owner's ARP entry may blackhole it). */
const ATTEMPT_TIMEOUT_MS = 300;
let last = '';

function report(outcome: { who?: string; err?: string; tookMs?: number }): void {
  const key = outcome.who ?? `!${outcome.err}`;
  if (key === last) return;
  last = key;
  process.stdout.write(`${JSON.stringify({ ts: Date.now(), ...outcome })}\n`);
}

/** Attempts in flight at most (each times out after ATTEMPT_TIMEOUT_MS). */
const MAX_IN_FLIGHT = Math.ceil(ATTEMPT_TIMEOUT_MS / Math.max(1, everyMs)) + 2;
let inFlight = 0;

function attempt(): void {
  if (inFlight >= MAX_IN_FLIGHT) return;
  inFlight++;
  let done = false;
  const ws = new WebSocket(url, { handshakeTimeout: ATTEMPT_TIMEOUT_MS });
  const t0 = Date.now();
  const finish = (outcome: { who?: string; err?: string; tookMs?: number }) => {
    if (done) return;
    done = true;
    inFlight--;
    report(outcome);
    ws.terminate();
  };
  ws.on('message', (data) => finish({ who: String(data).replace(/^hello from /, ''), tookMs: Date.now() - t0 }));
  ws.on('error', (err: NodeJS.ErrnoException) => finish({ err: err.code ?? err.message }));
  ws.on('close', () => finish({ err: 'closed before greeting' }));
}

setInterval(attempt, everyMs);
attempt();
