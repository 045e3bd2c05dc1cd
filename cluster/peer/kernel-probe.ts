/**
 * Kernel probes: TCP connects to a quiet peer's link port, which tell a
 * stalled process from a silent host. While a process is stopped (SIGSTOP,
 * a long GC pause, a frozen event loop), its host's kernel still completes
 * TCP handshakes on the process's listening socket; a host that lost its
 * link, or is cut off, answers nothing. A probe is answered (SYN-ACK, then
 * closed at once with a reset so no TIME_WAIT piles up), refused (the kernel
 * answered with a reset: the host is alive, the port closed), or missed (no
 * answer within probeTimeoutMs). Probes run only while a peer's process is
 * quiet, so they cost nothing while everything is fine.
 *
 * Why connects and not TCP_USER_TIMEOUT on the established link: Node has
 * no setsockopt for it, it needs unacknowledged data in flight to fire, and
 * its timeout cannot be shorter than the retransmission timer; measured
 * figures are in deploy/docs/ownership.md.
 */
import { connect, type Socket } from 'node:net';

/** What one probe saw. */
export type ProbeResult = 'answered' | 'refused' | 'missed';

/** Timings of the probes. */
export interface ProbeTimings { intervalMs: number; timeoutMs: number }

/** Probes one HOST:PORT every intervalMs while started; reports each result with the probe's start time. */
export class KernelProbe {
  readonly #host: string;
  readonly #port: number;
  readonly #t: ProbeTimings;
  readonly #onResult: (r: ProbeResult, startedMs: number) => void;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #inFlight = new Set<Socket>();
  #running = false;

  constructor(host: string, port: number, t: ProbeTimings, now: () => number, onResult: (r: ProbeResult, startedMs: number) => void) {
    this.#host = host;
    this.#port = port;
    this.#t = t;
    this.#now = now;
    this.#onResult = onResult;
  }

  get running(): boolean { return this.#running; }

  /** Starts probing (first probe at once); idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#tick();
  }

  /** Stops probing and drops probes in flight; idempotent. */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    for (const s of this.#inFlight) s.destroy();
    this.#inFlight.clear();
  }

  #tick(): void {
    if (!this.#running) return;
    this.#probe();
    this.#timer = setTimeout(() => this.#tick(), this.#t.intervalMs);
  }

  #probe(): void {
    const started = this.#now();
    const s = connect({ host: this.#host, port: this.#port });
    this.#inFlight.add(s);
    let settled = false;
    const settle = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.#inFlight.delete(s);
      if (r === 'answered') s.resetAndDestroy(); else s.destroy();
      if (this.#running) this.#onResult(r, started);
    };
    const timer = setTimeout(() => settle('missed'), this.#t.timeoutMs);
    s.once('connect', () => settle('answered'));
    s.once('error', (err: NodeJS.ErrnoException) => settle(err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET' ? 'refused' : 'missed'));
  }
}
