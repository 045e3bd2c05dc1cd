/**
 * The node's side of the VIP guard (guard-main.ts): forks it with a copy of
 * the peer listening socket, pushes each owned VIP's guard deadline to it,
 * restarts it with backoff if it ever exits while the node runs (re-sending
 * every armed deadline), and reports when it took a VIP away on its own.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { GuardAction } from '../drivers/driver';
import { runCommand, type CommandResult, type RunOptions } from '../drivers/commands';
import { GUARD_PEER_FD, type FromGuard, type ToGuard, type WireCommandResult } from './guard-protocol';

/** Longer than a command's own timeout, a guard that does not answer a request is given up on. */
const ASK_SLACK_MS = 1000;
const IP_ASK_TIMEOUT_MS = 3000;
/** Restart backoff of a guard that exited. */
const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 5000;

/** What the VIP machines ask of the guard. */
export interface GuardPort {
  /** This node holds `vip` until `untilMs` unless it pushes the deadline again; past it the guard runs `actions`. */
  arm(vip: string, untilMs: number, actions: GuardAction[]): void;
  /** This node no longer holds `vip`. */
  disarm(vip: string): void;
}

/** The running guard of one node. */
export class VipGuard implements GuardPort {
  readonly #log: Logger;
  readonly #peerFd: number;
  readonly #armed = new Map<string, Extract<ToGuard, { t: 'arm' }>>();
  /** Commands to keep prepared, sent again to a restarted guard. */
  readonly #prepared = new Map<string, ToGuard>();
  #child: ChildProcess | null = null;
  #stopping = false;
  #restartMs = RESTART_MIN_MS;
  #peerReleased = false;
  #onFired: (vip: string, problems: string[]) => void = () => {};
  #nextId = 0;
  /** Last raw GARP sender outcome logged per interface. */
  readonly #garpSaid = new Map<string, string>();
  readonly #pending = new Map<number, { resolve: (m: FromGuard) => void; reject: (e: Error) => void }>();

  constructor(o: { logger: Logger; peerFd: number }) {
    this.#log = o.logger.child({ component: 'vip-guard' });
    this.#peerFd = o.peerFd;
  }

  /** Called when the guard took a VIP away on its own (the node was stalled past its deadline). */
  onFired(fn: (vip: string, problems: string[]) => void): void { this.#onFired = fn; }

  /** Forks the guard; resolves once it runs. */
  start(): Promise<void> {
    return new Promise((resolve) => {
      const withFd = this.#peerFd >= 0 && !this.#peerReleased;
      const stdio: Array<'ignore' | 'inherit' | 'ipc' | number> = ['ignore', 'inherit', 'inherit', 'ipc'];
      if (withFd) stdio.push(this.#peerFd);
      const child = fork(join(__dirname, 'guard-main.js'), [], {
        stdio,
        env: { PATH: process.env.PATH ?? '', WSHA_GUARD_PEER_FD: withFd ? String(GUARD_PEER_FD) : '' },
        serialization: 'json',
      });
      this.#child = child;
      child.on('message', (m: FromGuard) => {
        if (m.t === 'ready') {
          this.#restartMs = RESTART_MIN_MS;
          for (const a of this.#armed.values()) this.#send(a);
          for (const p of this.#prepared.values()) child.send(p);
          resolve();
        } else if (m.t === 'exec-result' || m.t === 'ip-result' || m.t === 'garp-result') {
          const p = this.#pending.get(m.id);
          this.#pending.delete(m.id);
          p?.resolve(m);
        } else if (m.t === 'garp-sender') {
          // Said once per interface and outcome: a missing socat is retried at every takeover, not logged each time.
          const said = `${m.ready}:${m.reason ?? ''}`;
          if (this.#garpSaid.get(m.dev) === said) return;
          this.#garpSaid.set(m.dev, said);
          if (m.ready) this.#log.info({ dev: m.dev }, 'raw gratuitous-ARP sender ready: a takeover announces itself without starting arping');
          else this.#log.warn({ dev: m.dev, reason: m.reason }, 'no raw gratuitous-ARP sender: every announcement starts arping, a process start on the takeover\'s critical path; install socat (with CAP_NET_RAW) for the fast path');
        } else if (m.t === 'fired') {
          this.#armed.delete(m.vip);
          this.#log.error({ vip: m.vip, problems: m.problems }, 'VIP guard took the VIP away: this process did not renew before its guard deadline (stalled)');
          this.#onFired(m.vip, m.problems);
        }
      });
      child.on('error', (err) => this.#log.error({ err }, 'VIP guard error'));
      child.once('exit', (code, signal) => {
        if (this.#child === child) this.#child = null;
        for (const [id, p] of this.#pending) { this.#pending.delete(id); p.reject(new Error('VIP guard exited')); }
        resolve();
        if (this.#stopping) return;
        this.#log.error({ code, signal, restartInMs: this.#restartMs }, 'VIP guard exited; restarting it');
        const wait = this.#restartMs;
        this.#restartMs = Math.min(RESTART_MAX_MS, this.#restartMs * 2);
        setTimeout(() => { if (!this.#stopping) void this.start(); }, wait).unref();
      });
    });
  }

  /**
   * Runs a driver's command in the guard (a small process forks cheaply),
   * logging its output here as runCommand would; runs it locally when the
   * guard is not there.
   */
  async run(file: string, args: readonly string[], opts: RunOptions): Promise<CommandResult> {
    let m: FromGuard;
    try {
      m = await this.#ask({ t: 'exec', id: 0, file, args: [...args], env: opts.env, timeoutMs: opts.timeoutMs, warm: opts.warm }, opts.timeoutMs + ASK_SLACK_MS);
    } catch {
      return runCommand(file, args, opts);
    }
    const w = (m as { result: WireCommandResult }).result;
    const log = opts.logger.child({ cmd: file });
    for (const line of w.stdout.split('\n').filter(Boolean)) opts.quiet ? log.debug({ stream: 'stdout' }, line) : log.info({ stream: 'stdout' }, line);
    for (const line of w.stderr.split('\n').filter(Boolean)) log.warn({ stream: 'stderr' }, line);
    return { ...w, spawnError: w.spawnError ? new Error(w.spawnError) : undefined };
  }

  /** Has the guard spawn a copy of a command that a later `run` with `warm` starts with an exec (nothing without a guard). */
  prepare(file: string, args: readonly string[], env?: Record<string, string>): void {
    const m: ToGuard = { t: 'prepare', file, args: [...args], env };
    this.#prepared.set(JSON.stringify(m), m);
    const c = this.#child;
    if (c?.connected) c.send(m);
  }

  /**
   * Adds or removes an address through the guard's warm `ip` batch; rejects when the guard cannot tell.
   * `garp`: after an add, the guard sends the first gratuitous ARP itself; `announced` says whether it did.
   */
  async ipChange(action: 'add' | 'del', address: string, prefix: number, dev: string, garp = false): Promise<{ present: boolean; announced: boolean }> {
    const m = (await this.#ask({ t: 'ip', id: 0, action, address, prefix, dev, garp }, IP_ASK_TIMEOUT_MS)) as Extract<FromGuard, { t: 'ip-result' }>;
    if (m.present === null) throw new Error(m.error ?? 'ip batch failed');
    return { present: m.present, announced: m.garp === true };
  }

  /** Has the guard keep a raw gratuitous-ARP sender open on `dev` (garp-sender.ts). */
  prepareGarp(dev: string): void {
    const m: ToGuard = { t: 'prepare-garp', dev };
    this.#prepared.set(JSON.stringify(m), m);
    const c = this.#child;
    if (c?.connected) c.send(m);
  }

  /** One gratuitous ARP through the guard's raw sender; false when there is none (the caller runs arping). */
  async garp(dev: string, address: string): Promise<boolean> {
    try {
      const m = (await this.#ask({ t: 'garp', id: 0, dev, address }, IP_ASK_TIMEOUT_MS)) as Extract<FromGuard, { t: 'garp-result' }>;
      return m.sent;
    } catch {
      return false;
    }
  }

  #ask(req: Extract<ToGuard, { id: number }>, timeoutMs: number): Promise<FromGuard> {
    const c = this.#child;
    if (!c?.connected) return Promise.reject(new Error('VIP guard not running'));
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.#pending.delete(id); reject(new Error('VIP guard did not answer')); }, timeoutMs);
      this.#pending.set(id, { resolve: (m) => { clearTimeout(timer); resolve(m); }, reject: (e) => { clearTimeout(timer); reject(e); } });
      c.send({ ...req, id });
    });
  }

  /** PID of the guard process, or null. */
  get pid(): number | null { return this.#child?.pid ?? null; }

  arm(vip: string, untilMs: number, actions: GuardAction[]): void {
    const m: ToGuard = { t: 'arm', vip, untilMs, actions };
    this.#armed.set(vip, m);
    this.#send(m);
  }

  disarm(vip: string): void {
    if (!this.#armed.delete(vip)) return;
    this.#send({ t: 'disarm', vip });
  }

  /** The node closes its peer listener: the guard closes its copy too, so that connects are refused from now on. */
  releasePeer(): void {
    this.#peerReleased = true;
    this.#send({ t: 'release-peer' });
  }

  /** Graceful stop: nothing armed any more, peer socket released, guard ends. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const vip of [...this.#armed.keys()]) this.disarm(vip);
    this.releasePeer();
    const c = this.#child;
    if (!c) return;
    const exited = new Promise<void>((r) => { c.once('exit', () => r()); setTimeout(r, 2000).unref(); });
    if (c.connected) c.disconnect();
    await exited;
  }

  #send(m: ToGuard): void {
    const c = this.#child;
    if (c?.connected) c.send(m);
  }
}
