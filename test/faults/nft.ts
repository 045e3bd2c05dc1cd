/**
 * Network faults with nftables inside the lab's host namespaces (never the
 * machine's own): one `inet` table for IPv4/IPv6 and one `arp` table per
 * host, both named `wsha_fault`, so that heal() removes exactly what was
 * added. A partition drops IP and ARP both ways, as a real cut does; the
 * hub's address (the sampler's vantage point) is never cut.
 */
import { execFileSync } from 'node:child_process';
import type { NetnsLab } from '../harness/netns';

const TABLE = 'wsha_fault';

/** Runs an nft script inside namespace `ns`. */
function nft(ns: string, script: string): void {
  execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'], timeout: 10_000 });
}

/** The nft script that creates (or replaces) the fault tables of one host with `rules` (inet input chain) and `arpFrom` (ARP sources dropped). */
export function hostScript(rules: { inputInet: string[]; outputInet: string[]; arpDrop: string[] }): string {
  const arp = rules.arpDrop.length
    ? `table arp ${TABLE} {\n  chain input { type filter hook input priority -10; policy accept;\n${rules.arpDrop.map((a) => `    arp saddr ip ${a} drop\n`).join('')}  }\n  chain output { type filter hook output priority -10; policy accept;\n${rules.arpDrop.map((a) => `    arp daddr ip ${a} drop\n`).join('')}  }\n}\n`
    : '';
  return `table inet ${TABLE}\ndelete table inet ${TABLE}\ntable arp ${TABLE}\ndelete table arp ${TABLE}\n`
    + `table inet ${TABLE} {\n  chain input { type filter hook input priority -10; policy accept;\n${rules.inputInet.map((r) => `    ${r}\n`).join('')}  }\n`
    + `  chain output { type filter hook output priority -10; policy accept;\n${rules.outputInet.map((r) => `    ${r}\n`).join('')}  }\n}\n${arp}`;
}

/** Per-host rule lists being built up. */
type Rules = Map<string, { inputInet: string[]; outputInet: string[]; arpDrop: string[] }>;

/** Installs and removes nft faults in a lab. */
export class NftFaults {
  readonly #rules: Rules = new Map();
  constructor(readonly lab: NetnsLab) {}

  #of(host: string) {
    let r = this.#rules.get(host);
    if (!r) this.#rules.set(host, (r = { inputInet: [], outputInet: [], arpDrop: [] }));
    return r;
  }

  /**
   * Drops all traffic (IP and ARP) between every host of `a` and every host
   * of `b`, both ways. With `vip`, the hosts of `a` also neither send nor
   * hear ARP about the VIP itself (a gratuitous ARP names no host address),
   * so an owner in `a` cannot repoint clients in `b`.
   */
  cut(a: readonly string[], b: readonly string[], vip?: string): void {
    for (const [x, ys] of [[a, b], [b, a]] as const) {
      for (const h of x) {
        const r = this.#of(h);
        for (const y of ys) {
          const addr = this.lab.member(y).address;
          r.inputInet.push(`ip saddr ${addr} drop`);
          r.outputInet.push(`ip daddr ${addr} drop`);
          r.arpDrop.push(addr);
        }
      }
    }
    if (vip) for (const h of a) this.#of(h).arpDrop.push(vip);
    this.#apply([...a, ...b]);
  }

  /** On `host`, answers TCP from `from` to `port` with resets (the port looks closed to `from`, and a live link to it is reset on its next packet). */
  resetPort(host: string, from: string, port: number): void {
    this.#of(host).inputInet.push(`ip saddr ${this.lab.member(from).address} tcp dport ${port} reject with tcp reset`);
    this.#apply([host]);
  }

  /** Removes every fault rule. */
  heal(): void {
    const hosts = [...this.#rules.keys()];
    this.#rules.clear();
    for (const h of hosts) { try { nft(this.lab.member(h).ns, `table inet ${TABLE}\ndelete table inet ${TABLE}\ntable arp ${TABLE}\ndelete table arp ${TABLE}\n`); } catch { /* namespace gone */ } }
  }

  #apply(hosts: readonly string[]): void {
    for (const h of new Set(hosts)) nft(this.lab.member(h).ns, hostScript(this.#of(h)));
  }
}
