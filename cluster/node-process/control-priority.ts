/**
 * The control plane runs ahead of the data plane on its host. A takeover is
 * a chain of short steps in the control processes of two hosts (the dead
 * node's VIP guard removing the address and releasing its peer port, the
 * standby proving the death, taking the lease, adding the address), and
 * each step waits for the scheduler; on a busy host it waits behind the
 * workers, the clients and the backends. The fault matrix measured a SIGKILL
 * takeover under 200 reconnecting clients at 124-295 ms, against 51-119 ms
 * on a quieter host, most of it such waits. keepalived runs its VRRP
 * process at real-time priority for the same reason; a nice value is
 * enough here and needs only CAP_SYS_NICE (the systemd unit grants it).
 *
 * Linux keeps a nice value per thread: the control process's main thread
 * (its event loop) is raised, and so is every process it forks from that
 * thread (the VIP guard and what it runs), except the data-plane workers,
 * which are forked at the normal value (`atNormalPriority`), so that every
 * thread of theirs starts from it.
 */
import { getPriority, setPriority } from 'node:os';

/** Nice value of the control plane: ahead of ordinary processes (0), short of the range kept for the system. */
export const CONTROL_NICE = -10;

/** What raising the control process's priority did. */
export interface PriorityOutcome { applied: boolean; nice: number; error?: string }

/** The process's priority: raise() once at start, atNormalPriority() around each data-plane fork. */
export class ControlPriority {
  #raised = false;
  readonly #set: (nice: number) => void;
  readonly #get: () => number;

  constructor(set: (nice: number) => void = (n) => setPriority(0, n), get: () => number = () => getPriority(0)) {
    this.#set = set;
    this.#get = get;
  }

  /** Raises the calling thread to CONTROL_NICE; without CAP_SYS_NICE it stays as it was (the outcome says why). */
  raise(): PriorityOutcome {
    try {
      this.#set(CONTROL_NICE);
      this.#raised = true;
      return { applied: true, nice: CONTROL_NICE };
    } catch (err) {
      return { applied: false, nice: this.#get(), error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
    }
  }

  /** Runs `fork` (synchronous: the child is created before it returns) at the normal priority, then raises again. */
  atNormalPriority<T>(fork: () => T): T {
    if (!this.#raised) return fork();
    this.#set(0);
    try {
      return fork();
    } finally {
      // Lowering needed no privilege; raising again needs the one that raised it at start.
      try { this.#set(CONTROL_NICE); } catch { this.#raised = false; }
    }
  }
}
