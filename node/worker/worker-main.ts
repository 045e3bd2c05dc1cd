/**
 * Entry of a data-plane worker process, forked by its node's control
 * process (shared/ports/worker-entry.ts names this file). The worker does
 * what the control process asks over the IPC channel and nothing on its own:
 *
 * - SIGTERM, SIGINT and SIGHUP are ignored: drain and reload come from the
 *   control process, which orders them across every worker (a terminal's
 *   Ctrl-C reaches the whole process group; systemd's KillMode=mixed sends
 *   SIGTERM to the control process only).
 * - When the channel closes (the control process exited, even by SIGKILL),
 *   every listener and tunnel is destroyed and the process exits at once:
 *   no orphan keeps a VIP listener, and peers see the node's death as soon
 *   as its control process's sockets close.
 */
import { RpcEndpoint, type RpcMessage } from '../../shared/ipc/rpc-endpoint';
import type { ControlNotes, ControlOps, WorkerNotes, WorkerOps } from '../../shared/ports/worker-protocol';
import { WorkerServer } from './worker-server';

/** Exit code of a worker whose control process went away. */
export const EXIT_ORPHANED = 0;

function dropSendError(): void { /* see the send function in main() */ }

function main(): void {
  if (!process.send || !process.connected) {
    process.stderr.write('wsha worker: must be started by a node control process (wsha node start)\n');
    process.exit(2);
  }
  const rpc = new RpcEndpoint<WorkerOps, ControlOps, WorkerNotes, ControlNotes>((m: RpcMessage) => {
    if (!process.connected) throw new Error('control channel closed');
    // A killed control process breaks the pipe before 'disconnect' arrives, while tunnels are closing and telling it
    // so: such a send fails with EPIPE (without a callback, as an uncaught 'error' per message). Dropped: 'disconnect'
    // follows and ends this worker.
    process.send!(m, undefined, {}, dropSendError);
  });
  const server = new WorkerServer(rpc);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => { /* the control process orchestrates */ });
  process.on('message', (m) => rpc.receive(m));
  process.on('disconnect', () => {
    rpc.close('control process gone');
    server.destroy('IPC channel closed');
    process.exit(EXIT_ORPHANED);
  });
  process.on('uncaughtException', (err) => process.stderr.write(`wsha worker ${process.pid}: uncaught exception (kept running): ${err.stack ?? err.message}\n`));
  process.on('unhandledRejection', (err) => process.stderr.write(`wsha worker ${process.pid}: unhandled rejection (kept running): ${String((err as Error)?.stack ?? err)}\n`));
}

main();
