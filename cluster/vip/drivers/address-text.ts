/** Addresses as `ip` prints them: canonical text, and whether `ip -o addr show` output lists one. */
import { isIP } from 'node:net';

/** Canonical text of an address, so `fd00::0001` and `fd00::1` compare equal. */
export function canonicalAddress(address: string): string {
  return isIP(address) === 6 ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

/** Whether `ip -o addr show` output lists the address (any prefix). */
export function listsAddress(ipShowOutput: string, address: string): boolean {
  const want = canonicalAddress(address);
  return ipShowOutput.split('\n').some((line) => {
    const m = /\binet6?\s+([0-9a-fA-F:.]+)\//.exec(line);
    return m !== null && canonicalAddress(m[1] as string) === want;
  });
}
