/**
 * Messages between a node and its VIP guard (IPC of a forked child).
 *
 *   node -> guard   arm {vip, untilMs, actions}   push the deadline forward (every renewal)
 *                   disarm {vip}                  this node no longer holds the VIP
 *                   release-peer                  close the guard's copy of the peer listening socket
 *   guard -> node   ready                         started, holds the peer socket
 *                   fired {vip, why, problems}    the guard took the VIP away on its own
 */
import type { GuardAction } from '../drivers/driver';

export type ToGuard =
  | { t: 'arm'; vip: string; untilMs: number; actions: GuardAction[] }
  | { t: 'disarm'; vip: string }
  | { t: 'release-peer' };

export type FromGuard =
  | { t: 'ready'; peerFd: boolean }
  | { t: 'fired'; vip: string; why: 'deadline'; problems: string[] };

/** File descriptor the guard holds its copy of the peer listening socket on. */
export const GUARD_PEER_FD = 4;
