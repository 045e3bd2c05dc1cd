/**
 * A raw sender of gratuitous ARPs for one interface, kept open in the VIP
 * guard so that the announcement after a takeover costs a pipe write:
 *
 *   socat -u -b 28 STDIN SOCKET-SENDTO:17:2:0:<sockaddr_ll>
 *
 * (AF_PACKET, SOCK_DGRAM, protocol 0: it sends, and receives nothing, so it
 * costs nothing per packet on the interface), fed one 28-byte payload per
 * write (drivers/garp-frame.ts). `-b 28` makes every read one payload, so
 * several VIPs announced at once on one interface stay separate frames.
 *
 * Why not arping for this one: arping is a process start per announcement
 * (loader, locale, two netlink dumps). On a host in the middle of a takeover
 * that measured 10-12 ms from the request to the frame on the wire, even from
 * a copy spawned ahead of need; the write to a waiting sender is under 1 ms.
 * arping stays the fallback: without socat, without CAP_NET_RAW, or on an
 * interface with no Ethernet address, `send` answers false and the driver
 * runs arping as before.
 *
 *   idle --prepare--> probing (ip -o link show) --> starting (socat spawned)
 *        --"starting data transfer loop"--> ready --send--> ready
 *   any failure --> failed (reason kept) --after a backoff--> probing
 *
 * A send on an interface that is down ends socat (ENETDOWN): a link flap
 * during an announcement series must not leave the next takeover without
 * the sender, so a failed one starts again on its own, 250 ms later at
 * first, backing off to 30 s while it keeps failing (socat missing).
 *
 * A second after a send the link is read again (one read for a burst of
 * sends, and never in the takeover's own turn: spawning `ip` blocks the
 * guard until the exec): a changed index or address (an interface
 * recreated) replaces the sender.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { commandEnv } from '../drivers/commands';
import { broadcastDestination, garpPayload, parseLinkLine, type LinkFacts } from '../drivers/garp-frame';

/** A failed sender starts again after this, doubling up to RETRY_MAX_MS while it keeps failing. */
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 30_000;
/** Longest wait for `ip` or for socat to say it runs. */
const START_TIMEOUT_MS = 3000;
/** How long after a send the link is read again. */
const RECHECK_AFTER_MS = 1000;

export type GarpSenderState = 'idle' | 'probing' | 'starting' | 'ready' | 'failed';

const TRANSITIONS: Record<GarpSenderState, readonly GarpSenderState[]> = {
  idle: ['probing'],
  probing: ['starting', 'failed', 'idle'],
  starting: ['ready', 'failed', 'idle'],
  ready: ['failed', 'probing', 'idle'],
  failed: ['probing', 'idle'],
};

/** Told when the sender becomes ready or fails (the node logs it). */
export type GarpSenderReport = (dev: string, ready: boolean, reason?: string) => void;

/** Spawns a command (injectable so a test can run it in a network namespace). */
export type Spawner = (file: string, args: string[]) => { file: string; args: string[] };

const direct: Spawner = (file, args) => ({ file, args });

export class GarpSender {
  readonly dev: string;
  #state: GarpSenderState = 'idle';
  #link: LinkFacts | null = null;
  #proc: ChildProcess | null = null;
  #retryMs = RETRY_MIN_MS;
  #retryTimer: NodeJS.Timeout | null = null;
  #recheckTimer: NodeJS.Timeout | null = null;
  #reason = '';
  readonly #report: GarpSenderReport;
  readonly #spawner: Spawner;

  constructor(dev: string, report: GarpSenderReport, spawner: Spawner = direct) {
    this.dev = dev;
    this.#report = report;
    this.#spawner = spawner;
  }

  get state(): GarpSenderState { return this.#state; }

  /** Why the last attempt failed ('' when it did not). */
  get reason(): string { return this.#reason; }

  /** Starts the sender unless it runs, is starting, or waits for its retry after a failure. */
  prepare(): void {
    if (this.#state !== 'idle') return;
    this.#go('probing');
    void this.#probe();
  }

  /** Sends one gratuitous ARP for `address` now; false when the sender is not ready (the caller falls back to arping). */
  send(address: string): boolean {
    const p = this.#proc;
    if (this.#state !== 'ready' || !this.#link || !p?.stdin?.writable) return false;
    p.stdin.write(garpPayload(this.#link.mac, address));
    this.#recheckTimer ??= setTimeout(() => { this.#recheckTimer = null; this.#recheck(); }, RECHECK_AFTER_MS);
    return true;
  }

  /** Ends the sender (the guard is ending). */
  close(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#recheckTimer) clearTimeout(this.#recheckTimer);
    this.#retryTimer = null;
    this.#recheckTimer = null;
    this.#stopProc();
    if (this.#state !== 'idle') this.#go('idle');
  }

  #go(next: GarpSenderState): void {
    if (!TRANSITIONS[this.#state].includes(next)) throw new Error(`garp sender ${this.dev}: ${this.#state} -> ${next} is not a legal move`);
    this.#state = next;
  }

  #readLink(): Promise<LinkFacts | string> {
    const { file, args } = this.#spawner('ip', ['-o', 'link', 'show', 'dev', this.dev]);
    return new Promise((resolve) => {
      execFile(file, args, { env: commandEnv(), timeout: START_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) return resolve(`ip link show dev ${this.dev}: ${String(stderr).trim() || err.message}`);
        resolve(parseLinkLine(stdout) ?? `${this.dev} has no Ethernet address`);
      });
    });
  }

  async #probe(): Promise<void> {
    const link = await this.#readLink();
    if (this.#state !== 'probing') return;
    if (typeof link === 'string') return this.#fail(link);
    this.#link = link;
    this.#go('starting');
    this.#start(link);
  }

  #start(link: LinkFacts): void {
    const { file, args } = this.#spawner('socat', ['-d', '-d', '-u', '-b', '28', 'STDIN', `SOCKET-SENDTO:17:2:0:${broadcastDestination(link.ifindex)}`]);
    const p = spawn(file, args, { stdio: ['pipe', 'ignore', 'pipe'], env: commandEnv({ LC_ALL: 'C' }) });
    this.#proc = p;
    let err = '';
    const timer = setTimeout(() => { if (this.#proc === p && this.#state === 'starting') this.#fail('socat did not start in time'); }, START_TIMEOUT_MS);
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (d: string) => {
      err = (err + d).slice(-2000);
      if (this.#proc === p && this.#state === 'starting' && d.includes('starting data transfer loop')) {
        clearTimeout(timer);
        this.#go('ready');
        this.#reason = '';
        this.#retryMs = RETRY_MIN_MS;
        this.#report(this.dev, true);
      }
    });
    p.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (this.#proc === p) this.#fail(e.code === 'ENOENT' ? 'socat is not installed' : `socat: ${e.message}`);
    });
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (this.#proc !== p) return;
      const lastError = err.split('\n').filter((l) => / E /.test(l)).pop()?.replace(/^.* E /, '');
      this.#fail(`socat ended (${signal ?? `exit ${code}`})${lastError ? `: ${lastError}` : ''}`);
    });
    p.stdin!.on('error', () => { /* the exit handler reports it */ });
  }

  /** Reads the link again (after sends); a changed interface gets a fresh sender. */
  #recheck(): void {
    const before = this.#link;
    void this.#readLink().then((now) => {
      if (this.#state !== 'ready' || this.#link !== before) return;
      if (typeof now === 'string') return this.#fail(now);
      if (now.ifindex === before?.ifindex && now.mac.equals(before.mac)) return;
      this.#stopProc();
      this.#go('probing');
      void this.#probe();
    });
  }

  #stopProc(): void {
    const p = this.#proc;
    this.#proc = null;
    if (p && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }

  #fail(reason: string): void {
    this.#stopProc();
    this.#link = null;
    this.#reason = reason;
    this.#go('failed');
    this.#report(this.dev, false, reason);
    const wait = this.#retryMs;
    this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#state !== 'failed') return;
      this.#go('probing');
      void this.#probe();
    }, wait);
  }
}
