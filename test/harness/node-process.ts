/**
 * A proxy node as a child process, for tests of process behaviour (signals,
 * exit codes, reload): writes a config object to a temp YAML file, spawns
 * `node dist/cluster/cli/main.js node start --config FILE`, waits until it
 * listens, captures its JSON log lines, and is stopped by its own PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { waitFor } from './ports';
import { withClusterSecret } from './cluster-secret';
import { CONTROL_EXEC_ARGV } from '../../shared/control-flags';

/** Path of the built CLI entry. */
export const CLI_PATH = resolve(__dirname, '../../cluster/cli/main.js');

/** A running (or exited) node process. */
export interface NodeProcess {
  proc: ChildProcess;
  pid: number;
  configPath: string;
  /** Parsed JSON log lines so far. */
  logs: Array<Record<string, any>>;
  stderr(): string;
  /** Rewrites the config file (for SIGHUP tests); a string is written as-is. */
  writeConfig(config: object | string): void;
  signal(sig: NodeJS.Signals): void;
  /** Resolves with the exit code (or signal name) once the process exits. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for a log line matching `pred`. */
  waitForLog(pred: (line: Record<string, any>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, any>>;
  /** SIGKILL (if running) and remove the temp folder. */
  cleanup(): Promise<void>;
}

/** Spawns a node with `config`; does not wait for it to listen (see startNodeProcess). */
export function spawnNodeProcess(config: object | string, env: NodeJS.ProcessEnv = {}): NodeProcess {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-node-'));
  const configPath = join(dir, 'config.yaml');
  const write = (c: object | string) => writeFileSync(configPath, typeof c === 'string' ? c : stringify(c));
  write(config);
  const proc = spawn(process.execPath, [...CONTROL_EXEC_ARGV, CLI_PATH, 'node', 'start', '--config', configPath], {
    // A generated admin token goes into the node's own folder, removed at cleanup even after a SIGKILL.
    env: { ...withClusterSecret(), WSHA_LOG_PRETTY: '0', XDG_RUNTIME_DIR: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, any>> = [];
  let errText = '';
  let partial = '';
  proc.stdout!.on('data', (d: Buffer) => {
    partial += d.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) { if (line.trim()) { try { logs.push(JSON.parse(line)); } catch { logs.push({ raw: line }); } } }
  });
  proc.stderr!.on('data', (d: Buffer) => { errText += d.toString('utf8'); });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.once('exit', (code, signal) => res({ code, signal })));
  // What the node logged last says where its start stopped (a start that hangs leaves nothing else).
  const lastWords = () => {
    const tail = logs.slice(-12).map((l) => `${String(l.msg ?? l.raw ?? '')}${l.err ? ` (${String((l.err as { message?: string }).message ?? l.err)})` : ''}`).join(' | ');
    return `last log lines: ${tail || 'none'}${errText ? `; stderr: ${errText.slice(-500)}` : ''}`;
  };
  return {
    proc,
    pid: proc.pid!,
    configPath,
    logs,
    stderr: () => errText,
    writeConfig: write,
    signal: (sig) => { if (proc.exitCode === null && proc.signalCode === null) killIfAlive(proc.pid!, sig); },
    exited: () => exit,
    waitForLog: (pred, what, timeoutMs = 15000) => waitFor(() => logs.find(pred), what, timeoutMs).catch((err: Error) => {
      throw new Error(`${err.message}; ${lastWords()}`);
    }),
    cleanup: async () => {
      if (proc.exitCode === null && proc.signalCode === null) { killIfAlive(proc.pid!, 'SIGKILL'); await exit; }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Signals our own child by PID. It may have died since its 'exit' event was
 * last looked at (SIGKILLed by the test, the event not delivered yet):
 * ESRCH then means there is nothing left to stop (a CI failure of a cleanup hook).
 */
function killIfAlive(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; }
}

/** The log line of each readiness level: `serving` = plain listeners open (no Redis needed), `started` = agent and admin up too. */
const READY_MESSAGES = { serving: 'node created -> running', started: 'node started' } as const;

/** Spawns a node and waits until it serves its plain listeners (or, with `until: 'started'`, until fully started). */
export async function startNodeProcess(config: object | string, env: NodeJS.ProcessEnv = {}, until: keyof typeof READY_MESSAGES = 'serving'): Promise<NodeProcess> {
  const n = spawnNodeProcess(config, env);
  try {
    await Promise.race([
      n.waitForLog((l) => l.msg === READY_MESSAGES[until], READY_MESSAGES[until], 20000),
      n.exited().then((e) => { throw new Error(`node exited early (${e.code ?? e.signal}): ${n.stderr()}`); }),
    ]);
  } catch (err) {
    await n.cleanup();
    throw err;
  }
  return n;
}
