/**
 * One data-plane worker process of a node, seen from the control process:
 * the forked child, its typed channel, and its lifecycle as an explicit
 * machine. A slot outlives its process: when the process dies the fleet
 * starts a new one in the same slot.
 *
 *   spawning --started--> running --stop()--> stopping --exit--> exited
 *      |                     |
 *      +------ exit ---------+------> exited   (died: the fleet restarts the slot)
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../shared/logger';
import { StateMachine, type TransitionTable } from '../../shared/state-machine';
import { RpcEndpoint } from '../../shared/ipc/rpc-endpoint';
import type { ControlNotes, ControlOps, WorkerLoad, WorkerNotes, WorkerOps, WorkerStart, ListenerPorts } from '../../shared/ports/worker-protocol';

/** Lifecycle states of one worker process. */
export const SLOT_STATES = ['spawning', 'running', 'stopping', 'exited'] as const;
export type SlotState = (typeof SLOT_STATES)[number];

const SLOT_TRANSITIONS: TransitionTable<SlotState> = Object.freeze({
  spawning: ['running', 'stopping', 'exited'],
  running: ['stopping', 'exited'],
  stopping: ['exited'],
  exited: [],
});

/** Longest a worker may take to open its listeners at start. */
export const WORKER_START_TIMEOUT_MS = 30_000;
/** Longest a stopping worker may take to exit before it is killed. */
export const WORKER_EXIT_TIMEOUT_MS = 3000;

/** The control process's end of a worker's channel. */
export type ControlEnd = RpcEndpoint<ControlOps, WorkerOps, ControlNotes, WorkerNotes>;

/** How a process exited. */
export interface WorkerExit { code: number | null; signal: NodeJS.Signals | null; expected: boolean }

/** What a slot is built with. */
export interface SlotOptions {
  index: number;
  /** Path of the worker entry (node/worker/worker-main.js). */
  entry: string;
  log: Logger;
  /** Serves the control ops of this worker's channel and listens to its reports. */
  wire: (rpc: ControlEnd, slot: WorkerSlot) => void;
  onExit: (slot: WorkerSlot, exit: WorkerExit) => void;
  /** Extra exec arguments for the worker (e.g. --cpu-prof in benchmarks). */
  execArgv?: string[];
  /** Runs the fork (synchronous): the fleet's owner forks workers at the normal priority (control-priority.ts). */
  forkWith?: <T>(fork: () => T) => T;
}

/** One process of a worker slot. */
export class WorkerSlot {
  readonly index: number;
  readonly state: StateMachine<SlotState>;
  readonly rpc: ControlEnd;
  readonly #child: ChildProcess;
  /** The latest load report. */
  load: WorkerLoad = { connections: 0, tunnels: 0, counts: [], vipTunnels: {}, edge: { denied: [], alerts: [] } };
  /** The remote counts last pushed to this process (JSON), so that an unchanged table is not sent again. */
  countsSent = '';
  /** VIPs this process listens on. */
  readonly openVips = new Set<string>();
  readonly exited: Promise<WorkerExit>;

  constructor(o: SlotOptions) {
    this.index = o.index;
    this.state = new StateMachine<SlotState>(`worker ${o.index}`, 'spawning', SLOT_TRANSITIONS);
    // 'advanced' serialisation: configs and snapshots cross as structured clones, not JSON text.
    const spawn = () => fork(o.entry, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: o.execArgv ?? [] });
    this.#child = o.forkWith ? o.forkWith(spawn) : spawn();
    this.rpc = new RpcEndpoint((m) => {
      if (!this.#child.connected) throw new Error('worker channel closed');
      this.#child.send(m);
    });
    this.#child.on('message', (m) => this.rpc.receive(m));
    this.#child.on('error', (err) => o.log.error({ worker: o.index, err: err.message }, 'worker process error'));
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        const expected = this.state.state === 'stopping';
        this.rpc.close(`worker ${o.index} exited (${signal ?? `code ${code}`})`);
        this.state.transition('exited', expected ? 'stopped' : 'died', { code, signal });
        const exit = { code, signal, expected };
        o.onExit(this, exit);
        resolve(exit);
      });
    });
    o.wire(this.rpc, this);
  }

  get pid(): number | null { return this.#child.pid ?? null; }
  get running(): boolean { return this.state.state === 'running'; }

  /** Starts the data plane in the process; resolves with the ports its listeners took. */
  async start(args: WorkerStart): Promise<ListenerPorts> {
    const { ports } = await this.rpc.call('start', args, WORKER_START_TIMEOUT_MS);
    if (this.state.state === 'spawning') this.state.transition('running', 'listeners open');
    return ports;
  }

  /**
   * Ends the process: closing its channel makes it exit (it holds nothing
   * worth keeping once its control process lets go), SIGKILL if it lingers.
   */
  async stop(): Promise<WorkerExit> {
    if (this.state.state === 'exited') return this.exited;
    if (this.state.state !== 'stopping') this.state.transition('stopping', 'stop requested');
    if (this.#child.connected) this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), WORKER_EXIT_TIMEOUT_MS);
    timer.unref();
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** SIGKILL at once (start failed, or a test). */
  kill(): void { this.#child.kill('SIGKILL'); }
}
