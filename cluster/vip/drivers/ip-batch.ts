/**
 * One long-running `ip -o -force -batch -` process that adds and removes
 * VIP addresses in about a millisecond, where spawning `ip` for every change
 * costs tens of milliseconds on a loaded host, on the takeover's critical
 * path (the old owner's guard removes the address, then the new owner adds
 * it). A request is the change, then `link show dev lo`, whose one-line
 * answer marks the end of the request. Success is the absence of an error:
 * an add is `addr replace` (a no-op when the address is there), a delete of
 * an address that is not there says so, and either way the caller learns
 * whether the address is present now, which is what the driver wants.
 *
 * `ip` in batch mode answers address dumps wrongly once a `link show` ran
 * (and after a failed command), so no `addr show` is ever sent; an error
 * the request does not explain makes its answer unknown (the caller falls
 * back to a spawned `ip`, drivers/commands.ts) and the process is replaced,
 * as is one that dies or hangs. Requests run one at a time.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Longest wait for one request's answer before the process is replaced. */
const REQUEST_TIMEOUT_MS = 2000;

/** What one change found: whether the address is present afterwards. */
export interface IpBatchResult { present: boolean }

interface Pending { action: 'add' | 'del'; lines: string; resolve: (r: IpBatchResult) => void; reject: (e: Error) => void }

/** What a change's error text means: the state it reports, or null when it explains nothing. */
export function explainIpError(action: 'add' | 'del', stderr: string): boolean | null {
  if (stderr === '') return action === 'add';
  if (action === 'add' && /File exists|already assigned/i.test(stderr)) return true;
  if (action === 'del' && /not found|Cannot assign requested address|No such/i.test(stderr) && !/Cannot find device/i.test(stderr)) return false;
  return null;
}

/** A persistent `ip` batch process (see the file comment). */
export class IpBatch {
  #proc: ChildProcess | null = null;
  #queue: Pending[] = [];
  #current: Pending | null = null;
  #partial = '';
  #err = '';
  #timer: NodeJS.Timeout | undefined;

  /** Starts the process now (a warm process answers the first request at once). */
  warm(): void { this.#ensure(); }

  /** Adds or deletes `address/prefix` on `dev`; resolves with whether it is present afterwards, rejects when unknown. */
  change(action: 'add' | 'del', address: string, prefix: number, dev: string): Promise<IpBatchResult> {
    const verb = action === 'add' ? 'replace' : 'del';
    const lines = `addr ${verb} ${address}/${prefix} dev ${dev}\nlink show dev lo\n`;
    return new Promise((resolve, reject) => {
      this.#queue.push({ action, lines, resolve, reject });
      this.#next();
    });
  }

  /** Ends the process; requests still queued are rejected. */
  close(): void {
    clearTimeout(this.#timer);
    const p = this.#proc;
    this.#proc = null;
    if (p && p.exitCode === null) p.kill('SIGKILL');
    for (const q of [...(this.#current ? [this.#current] : []), ...this.#queue]) q.reject(new Error('ip batch closed'));
    this.#current = null;
    this.#queue = [];
  }

  #ensure(): ChildProcess {
    if (this.#proc && this.#proc.exitCode === null && this.#proc.stdin?.writable) return this.#proc;
    const p = spawn('ip', ['-o', '-force', '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#proc = p;
    p.stdout!.setEncoding('utf8');
    p.stderr!.setEncoding('utf8');
    p.stdout!.on('data', (d: string) => this.#onOut(p, d));
    p.stderr!.on('data', (d: string) => { if (this.#proc === p) this.#err += d; });
    p.on('error', () => this.#fail(p, new Error('ip batch could not start')));
    p.on('exit', () => this.#fail(p, new Error('ip batch exited')));
    p.stdin!.on('error', () => this.#fail(p, new Error('ip batch stdin closed')));
    // The batch process must never outlive its owner's event loop waiting on it.
    p.unref();
    (p.stdout as unknown as { unref?: () => void }).unref?.();
    (p.stderr as unknown as { unref?: () => void }).unref?.();
    return p;
  }

  #next(): void {
    if (this.#current || this.#queue.length === 0) return;
    const q = this.#queue.shift()!;
    this.#current = q;
    this.#err = '';
    const p = this.#ensure();
    this.#timer = setTimeout(() => this.#fail(p, new Error('ip batch did not answer')), REQUEST_TIMEOUT_MS);
    p.stdin!.write(q.lines);
  }

  #onOut(p: ChildProcess, d: string): void {
    if (this.#proc !== p) return;
    this.#partial += d;
    let nl: number;
    while ((nl = this.#partial.indexOf('\n')) >= 0) {
      const line = this.#partial.slice(0, nl);
      this.#partial = this.#partial.slice(nl + 1);
      // `ip` wrote the request's error text to stderr before the marker to stdout, so by the time the marker is
      // read the error is readable too: the same poll phase delivers it, and setImmediate runs after that phase.
      // (A timer of a few ms here cost that much again on every change of a takeover, more on a loaded host.)
      if (this.#current && line.includes('link/loopback')) setImmediate(() => this.#settle(p));
    }
  }

  #settle(p: ChildProcess): void {
    const q = this.#current;
    if (this.#proc !== p || !q) return;
    this.#current = null;
    clearTimeout(this.#timer);
    const err = this.#err.trim();
    const present = explainIpError(q.action, err);
    // Any error text leaves this process's later answers in doubt: start a fresh one for the next request.
    if (err !== '') this.#replace(p);
    if (present === null) q.reject(new Error(`ip batch: ${err}`));
    else q.resolve({ present });
    this.#next();
  }

  /** Kills a process whose answers are in doubt and starts its successor at once (the next request finds it warm). */
  #replace(p: ChildProcess): void {
    if (this.#proc === p) this.#proc = null;
    if (p.exitCode === null) p.kill('SIGKILL');
    this.#ensure();
  }

  #fail(p: ChildProcess, err: Error): void {
    if (this.#proc !== p) return;
    this.#proc = null;
    clearTimeout(this.#timer);
    if (p.exitCode === null) p.kill('SIGKILL');
    const q = this.#current;
    this.#current = null;
    this.#partial = '';
    q?.reject(err);
    this.#next();
  }
}
