/**
 * The VIP guard: a small child process of every node that takes a VIP away
 * on its own when the node cannot. The node pushes a deadline forward with
 * every renewal (`arm`); a process that is stopped (SIGSTOP, a frozen VM
 * process, a GC pause past the stall budget) stops pushing, and at the
 * deadline the guard runs the driver's actions: the address goes (ip addr
 * del, the exec down script) or the bind listeners are destroyed (ss -K),
 * before any standby may bring the VIP up elsewhere.
 *
 * When the node dies, the IPC channel closes at once; the guard then runs
 * the actions marked onDeath and only then closes its copy of the node's
 * peer listening socket. Until that close the kernel keeps completing
 * connects to the peer port, so a standby's death proof (a refused
 * reconnect) cannot arrive before the address is gone: the new owner
 * cannot add the address while the dead one still holds it.
 *
 * It also runs the node's driver commands (guard-protocol.ts says why).
 *
 * Signals other than SIGKILL are ignored: the node decides when the guard
 * ends (it disarms and disconnects on a graceful stop).
 */
import { closeSync } from 'node:fs';
import { monotonicMs } from '../../../shared/clock';
import type { GuardAction } from '../drivers/driver';
import { ipChange, runGuardActions, warmGuardTools } from './guard-actions';
import { runCommand } from '../drivers/commands';
import { silentLogger } from '../../../shared/logger';
import { GUARD_PEER_FD, type FromGuard, type ToGuard } from './guard-protocol';
import { WarmCommands } from './warm-commands';
import { GarpSender } from './garp-sender';

interface Armed { untilMs: number; actions: GuardAction[]; timer: NodeJS.Timeout }

const armed = new Map<string, Armed>();
const warm = new WarmCommands();
const garpSenders = new Map<string, GarpSender>();
const holdsPeerFd = process.env.WSHA_GUARD_PEER_FD === String(GUARD_PEER_FD);
let peerReleased = !holdsPeerFd;
let ending = false;

function send(m: FromGuard): void { if (process.connected) process.send!(m); }

function garpSender(dev: string): GarpSender {
  let s = garpSenders.get(dev);
  if (!s) {
    s = new GarpSender(dev, (d, ready, reason) => send({ t: 'garp-sender', dev: d, ready, reason }));
    garpSenders.set(dev, s);
  }
  return s;
}

/** One gratuitous ARP through the raw sender of `dev`; false when it is not ready (a new one starts, a failed one restarts on its own). */
function sendGarp(dev: string, address: string): boolean {
  const s = garpSender(dev);
  if (s.send(address)) return true;
  s.prepare();
  return false;
}

function releasePeer(): void {
  if (peerReleased) return;
  peerReleased = true;
  try { closeSync(GUARD_PEER_FD); } catch { /* already closed */ }
}

async function fire(vip: string): Promise<void> {
  const a = armed.get(vip);
  if (!a) return;
  armed.delete(vip);
  const problems = await runGuardActions(a.actions, false);
  send({ t: 'fired', vip, why: 'deadline', problems });
}

function onMessage(m: ToGuard): void {
  if (ending) return;
  switch (m.t) {
    case 'arm': {
      if (m.actions.some((a) => a.kind === 'ip-del')) warmGuardTools();
      const prev = armed.get(m.vip);
      if (prev) clearTimeout(prev.timer);
      const timer = setTimeout(() => void fire(m.vip), Math.max(0, m.untilMs - monotonicMs()));
      armed.set(m.vip, { untilMs: m.untilMs, actions: m.actions, timer });
      return;
    }
    case 'disarm': {
      const prev = armed.get(m.vip);
      if (prev) clearTimeout(prev.timer);
      armed.delete(m.vip);
      return;
    }
    case 'release-peer': return releasePeer();
    case 'prepare': return warm.prepare(m.file, m.args, m.env);
    case 'exec': {
      const opts = { timeoutMs: m.timeoutMs, logger: silentLogger(), env: m.env };
      void (m.warm ? warm.run(m.file, m.args, opts) : runCommand(m.file, m.args, opts)).then((r) =>
        send({ t: 'exec-result', id: m.id, result: { ...r, spawnError: r.spawnError ? r.spawnError.message : null } }));
      return;
    }
    case 'prepare-garp': return garpSender(m.dev).prepare();
    case 'garp': return send({ t: 'garp-result', id: m.id, sent: sendGarp(m.dev, m.address) });
    case 'ip': {
      void ipChange(m.action, m.address, m.prefix, m.dev).then(
        // The announcement leaves from here, before the answer travels back to a node busy with its takeover.
        (r) => send({ t: 'ip-result', id: m.id, present: r.present, garp: m.garp === true && m.action === 'add' && r.present && sendGarp(m.dev, m.address) }),
        (err: Error) => send({ t: 'ip-result', id: m.id, present: null, error: err.message }));
      return;
    }
  }
}

/** The node is gone (died or disconnected): address first, then let peers see the death. */
async function onDisconnect(): Promise<void> {
  if (ending) return;
  ending = true;
  warm.close();
  for (const s of garpSenders.values()) s.close();
  const all = [...armed.values()];
  for (const a of all) clearTimeout(a.timer);
  armed.clear();
  await Promise.all(all.map((a) => runGuardActions(a.actions, true)));
  releasePeer();
  process.exit(0);
}

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => { /* the node ends the guard */ });
process.on('message', (m: ToGuard) => onMessage(m));
process.on('disconnect', () => void onDisconnect());
send({ t: 'ready', peerFd: holdsPeerFd });
