/**
 * Messages between a node and its VIP guard (IPC of a forked child).
 *
 *   node -> guard   arm {vip, untilMs, actions}   push the deadline forward (every renewal)
 *                   disarm {vip}                  this node no longer holds the VIP
 *                   release-peer                  close the guard's copy of the peer listening socket
 *                   exec {id, file, args, ...}    run a command for a driver (ip, arping, exec scripts);
 *                                                 `warm`: from a copy spawned ahead of need (warm-commands.ts)
 *                   prepare {file, args, env}     spawn such a copy now, before the first run
 *                   ip {id, action, ..., garp}    add or remove an address through the warm ip batch;
 *                                                 `garp`: after an add, announce it at once (no round trip)
 *                   prepare-garp {dev}            keep a raw GARP sender open on dev (garp-sender.ts)
 *                   garp {id, dev, address}       one gratuitous ARP through that sender
 *   guard -> node   ready                         started, holds the peer socket
 *                   fired {vip, why, problems}    the guard took the VIP away on its own
 *                   exec-result / ip-result /
 *                   garp-result {id}              what a request found
 *                   garp-sender {dev, ready, ...} a raw sender became ready or failed (logged by the node)
 *
 * Why commands run in the guard: a fork copies the page tables of the
 * process that forks, so spawning from a node that holds many connections
 * (hundreds of MB) blocks its event loop for tens of milliseconds, on the
 * takeover's critical path; the guard is small.
 */
import type { GuardAction } from '../drivers/driver';
import type { CommandResult } from '../drivers/commands';

export type ToGuard =
  | { t: 'arm'; vip: string; untilMs: number; actions: GuardAction[] }
  | { t: 'disarm'; vip: string }
  | { t: 'release-peer' }
  | { t: 'exec'; id: number; file: string; args: string[]; env?: Record<string, string>; timeoutMs: number; warm?: boolean }
  | { t: 'prepare'; file: string; args: string[]; env?: Record<string, string> }
  | { t: 'ip'; id: number; action: 'add' | 'del'; address: string; prefix: number; dev: string; garp?: boolean }
  | { t: 'prepare-garp'; dev: string }
  | { t: 'garp'; id: number; dev: string; address: string };

/** A command's result across IPC (a spawn error travels as its message). */
export type WireCommandResult = Omit<CommandResult, 'spawnError'> & { spawnError: string | null };

export type FromGuard =
  | { t: 'ready'; peerFd: boolean }
  | { t: 'fired'; vip: string; why: 'deadline'; problems: string[] }
  | { t: 'exec-result'; id: number; result: WireCommandResult }
  | { t: 'ip-result'; id: number; present: boolean | null; error?: string; garp?: boolean }
  | { t: 'garp-result'; id: number; sent: boolean }
  | { t: 'garp-sender'; dev: string; ready: boolean; reason?: string };

/** File descriptor the guard holds its copy of the peer listening socket on. */
export const GUARD_PEER_FD = 4;
