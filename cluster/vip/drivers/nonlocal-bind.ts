/**
 * Whether this network namespace lets a socket bind an address that is not
 * (yet) on any interface: `net.ipv4.ip_nonlocal_bind` / `net.ipv6.ip_nonlocal_bind`,
 * the setting keepalived users give HAProxy for the same reason. With it, a
 * new owner opens its VIP listeners while the address is being added rather
 * than after, which takes the workers' listen() off a takeover's critical
 * path. The files under /proc/sys/net belong to the reader's namespace, so a
 * node run with `ip netns exec` reads its own.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/** The sysctl file for the address's family. */
export function nonlocalBindFile(address: string): string {
  return isIP(address) === 6 ? '/proc/sys/net/ipv6/ip_nonlocal_bind' : '/proc/sys/net/ipv4/ip_nonlocal_bind';
}

/** True when the sysctl for the address's family is 1; false when it is 0 or cannot be read. */
export function nonlocalBindAllowed(address: string, read: (file: string) => string = (f) => readFileSync(f, 'utf8')): boolean {
  try {
    return read(nonlocalBindFile(address)).trim() === '1';
  } catch {
    return false;
  }
}
