/**
 * A small network lab of Linux network namespaces for the `linux` VIP driver
 * tests and the failover benchmark: one hub namespace holding a bridge (with
 * an address of its own, where Redis can run), and one namespace per member
 * (proxy hosts, a client) joined to the bridge by a veth pair. Every member
 * sees only the lab subnet 10.213.0.0/24 and its own loopback; nothing of it
 * is visible from the machine's own namespace.
 *
 *            hub ns: br0 10.213.0.254
 *        ┌──────────┼──────────┐
 *     p-a│       p-b│       p-c│       (bridge ports, in the hub ns)
 *    eth0 .1     eth0 .2    eth0 .3    (one namespace each; also fd00:213::1, ::2, ::3)
 *
 * Names start with `wsha-t-<pid>-`, so parallel runs never collide. destroy()
 * kills every process the lab spawned (by PID) and deletes every namespace;
 * it also runs from a process 'exit' handler, so a failed test leaves nothing.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The lab subnet; addresses exist only inside the lab's namespaces. */
export const LAB_SUBNET = '10.213.0';
/** The IPv6 lab prefix (a /64 of the unique-local range). */
export const LAB_SUBNET6 = 'fd00:213:';
/** Address of the hub (bridge) namespace. */
export const HUB_ADDRESS = `${LAB_SUBNET}.254`;

/** One member namespace on the bridge. */
export interface LabMember {
  /** Short name given to createLab (a, b, c...). */
  name: string;
  /** Namespace name. */
  ns: string;
  /** Interface inside the namespace that faces the bridge. */
  iface: string;
  /** Its lab address. */
  address: string;
  /** Its IPv6 lab address (fd00:213::N/64). */
  address6: string;
  /** The bridge-side end of its veth pair (in the hub namespace). */
  port: string;
}

let labCounter = 0;
const liveLabs = new Set<NetnsLab>();
let exitHookInstalled = false;

/** Whether this process may build namespaces (root, `ip netns` present). */
export function netnsAvailable(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try { execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** Runs `ip ARGS` and returns stdout; throws with ip's stderr on failure. */
export function ip(args: readonly string[]): string {
  try {
    return execFileSync('ip', args as string[], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** A lab of namespaces; see the file comment. */
export class NetnsLab {
  readonly prefix: string;
  readonly hubNs: string;
  readonly members = new Map<string, LabMember>();
  readonly #children = new Set<ChildProcess>();
  #destroyed = false;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.hubNs = `${prefix}hub`;
  }

  /** The member called `name`; throws if there is none. */
  member(name: string): LabMember {
    const m = this.members.get(name);
    if (!m) throw new Error(`no lab member ${name}`);
    return m;
  }

  /** Runs `ip -n NS ARGS` inside a member's (or the hub's) namespace. */
  ipIn(ns: string, args: readonly string[]): string { return ip(['-n', ns, ...args]); }

  /** Runs a program inside a namespace and returns its stdout. */
  execIn(ns: string, file: string, args: readonly string[], timeoutMs = 10_000): string {
    return execFileSync('ip', ['netns', 'exec', ns, file, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
  }

  /**
   * Spawns a program inside a namespace. `ip netns exec` execs the program,
   * so the returned child's PID is the program's own (SIGKILL hits it).
   */
  spawnIn(ns: string, file: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  /** MAC address of a member's lab interface. */
  mac(name: string): string {
    const m = this.member(name);
    const out = this.ipIn(m.ns, ['-o', 'link', 'show', 'dev', m.iface]);
    const found = /link\/ether\s+([0-9a-f:]{17})/.exec(out);
    if (!found) throw new Error(`no MAC on ${m.ns}/${m.iface}: ${out}`);
    return found[1] as string;
  }

  /** The MAC a member's neighbour cache holds for `address`, or null (no entry, or FAILED/INCOMPLETE). */
  neighbour(name: string, address: string): string | null {
    const m = this.member(name);
    const out = this.ipIn(m.ns, ['neigh', 'show', 'to', address, 'dev', m.iface]);
    const found = /lladdr\s+([0-9a-f:]{17})/.exec(out);
    return found ? (found[1] as string) : null;
  }

  /** Whether a member's lab interface carries `address` right now. */
  hasAddress(name: string, address: string): boolean {
    const m = this.member(name);
    return this.ipIn(m.ns, ['-o', 'addr', 'show', 'dev', m.iface]).split('\n').some((l) => l.includes(` ${address}/`));
  }

  /** Takes a member's own interface down (its host loses its link). */
  linkDown(name: string): void { const m = this.member(name); this.ipIn(m.ns, ['link', 'set', m.iface, 'down']); }

  /** Brings a member's own interface back up. */
  linkUp(name: string): void { const m = this.member(name); this.ipIn(m.ns, ['link', 'set', m.iface, 'up']); }

  /** Cuts a member off at the bridge (partition: its own link stays configured). */
  partition(name: string): void { this.ipIn(this.hubNs, ['link', 'set', this.member(name).port, 'down']); }

  /** Joins a partitioned member to the bridge again (heal). */
  heal(name: string): void { this.ipIn(this.hubNs, ['link', 'set', this.member(name).port, 'up']); }

  /** Kills every process the lab spawned (SIGKILL, by PID) and deletes every namespace. Idempotent. */
  destroySync(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    liveLabs.delete(this);
    for (const c of this.#children) if (c.exitCode === null && c.signalCode === null) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
    for (const ns of [...[...this.members.values()].map((m) => m.ns), this.hubNs]) {
      if (!existsSync(`/run/netns/${ns}`)) continue;
      try { ip(['netns', 'del', ns]); } catch { /* best effort: keep deleting the others */ }
    }
  }

  /** destroySync, then a short wait for the killed processes to be reaped. */
  async destroy(): Promise<void> {
    const waiting = [...this.#children].map((c) => new Promise<void>((r) => {
      if (c.exitCode !== null || c.signalCode !== null) return r();
      c.once('exit', () => r());
      setTimeout(r, 2000).unref();
    }));
    this.destroySync();
    await Promise.all(waiting);
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => { for (const lab of [...liveLabs]) lab.destroySync(); });
}

/**
 * Builds the hub and one namespace per name in `memberNames`, member i at
 * 10.213.0.(i+1). Register `lab.destroy()` with t.after right away.
 */
export function createLab(memberNames: readonly string[]): NetnsLab {
  const lab = new NetnsLab(`wsha-t-${process.pid}-${++labCounter}-`);
  liveLabs.add(lab);
  installExitHook();
  try {
    ip(['netns', 'add', lab.hubNs]);
    lab.ipIn(lab.hubNs, ['link', 'set', 'lo', 'up']);
    lab.ipIn(lab.hubNs, ['link', 'add', 'br0', 'type', 'bridge']);
    lab.ipIn(lab.hubNs, ['addr', 'add', `${HUB_ADDRESS}/24`, 'dev', 'br0']);
    lab.ipIn(lab.hubNs, ['link', 'set', 'br0', 'up']);
    memberNames.forEach((name, i) => addMember(lab, name, `${LAB_SUBNET}.${i + 1}`, `${LAB_SUBNET6}:${i + 1}`));
  } catch (err) {
    lab.destroySync();
    throw err;
  }
  return lab;
}

function addMember(lab: NetnsLab, name: string, address: string, address6: string): void {
  const m: LabMember = { name, ns: `${lab.prefix}${name}`, iface: 'eth0', address, address6, port: `p-${name}` };
  lab.members.set(name, m);
  ip(['netns', 'add', m.ns]);
  lab.ipIn(m.ns, ['link', 'set', 'lo', 'up']);
  // Created inside the hub namespace, the peer moved straight into the member's:
  // no interface name ever appears in the machine's own namespace.
  lab.ipIn(lab.hubNs, ['link', 'add', m.port, 'type', 'veth', 'peer', 'name', m.iface, 'netns', m.ns]);
  lab.ipIn(lab.hubNs, ['link', 'set', m.port, 'master', 'br0', 'up']);
  lab.ipIn(m.ns, ['addr', 'add', `${address}/24`, 'dev', m.iface]);
  // nodad: usable at once, no second of tentative state.
  lab.ipIn(m.ns, ['addr', 'add', `${address6}/64`, 'dev', m.iface, 'nodad']);
  lab.ipIn(m.ns, ['link', 'set', m.iface, 'up']);
}
