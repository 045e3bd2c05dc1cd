/**
 * Runs a guard's actions (see GuardAction in drivers/driver.ts), in order,
 * each bounded by its timeout; collects what went wrong instead of throwing,
 * because the guard must get through every action it can.
 */
import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import type { GuardAction } from '../drivers/driver';
import { IpBatch } from '../drivers/ip-batch';
import { ipAddrArgs } from '../drivers/linux';

/** The guard's warm `ip` batch process: removing the address is on a takeover's critical path. */
const batch = new IpBatch();
let warmed = false;

/** Adds or removes an address through the warm batch process (for the node's driver). */
export function ipChange(action: 'add' | 'del', address: string, prefix: number, dev: string): Promise<{ present: boolean }> {
  warmGuardTools();
  return batch.change(action, address, prefix, dev);
}

/** Starts the ip batch process before it is needed (idempotent). */
export function warmGuardTools(): void {
  if (warmed) return;
  warmed = true;
  batch.warm();
}

/** Timeout of one `ss -K` run. */
const SS_TIMEOUT_MS = 2000;

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, _stdout, stderr) => {
      resolve(err ? `${file} ${args.join(' ')}: ${String(stderr).trim() || err.message}` : null);
    });
  });
}

/** `ss` arguments that destroy the listening sockets on ADDRESS:PORT. */
export function killListenerArgs(address: string, port: number): string[] {
  const hp = isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
  return ['-K', '-H', 'state', 'listening', 'src', hp];
}

/** Runs the actions that apply (`death`: only those marked onDeath); returns the problems met. */
export async function runGuardActions(actions: readonly GuardAction[], death: boolean): Promise<string[]> {
  const problems: string[] = [];
  for (const a of actions) {
    if (death && !a.onDeath) continue;
    if (a.kind === 'ip-del') {
      const done = await batch.change('del', a.address, a.prefix, a.dev).then((r) => !r.present, () => false);
      if (done) continue;
      const p = await run('ip', ipAddrArgs('del', a.address, a.prefix, a.dev), { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' }, a.timeoutMs);
      if (p) problems.push(p);
    } else if (a.kind === 'run') {
      const p = await run(a.file, a.args, { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...(a.env ?? {}) }, a.timeoutMs);
      if (p) problems.push(p);
    } else {
      for (const port of a.ports) {
        const p = await run('ss', killListenerArgs(a.address, port), { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' }, SS_TIMEOUT_MS);
        if (p) problems.push(p);
      }
    }
  }
  return problems;
}
