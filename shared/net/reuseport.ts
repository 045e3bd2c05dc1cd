/**
 * SO_REUSEPORT listening sockets, so that two nodes can listen on one VIP
 * address during the make-before-break overlap of a planned handover, and
 * the worker processes of one node (`node.workers` > 1) can all accept on
 * every listener, the kernel spreading new connections between them.
 * Node 20's net module cannot set SO_REUSEPORT (`reusePort` arrived in
 * Node 22.12), so the native part of node-unix-socket creates the bound
 * socket and the listener adopts its fd. Only that prebuilt native package is
 * a dependency (optional, Linux x86-64): its JS wrapper lists platform
 * packages that were never published, which breaks `npm ci`.
 */
import { isIP, isIPv4 } from 'node:net';

interface ReuseportBinding {
  socketNewSoReuseportFd(domain: 'ipv4' | 'ipv6', port: number, host: string): number;
}

const NATIVE_PACKAGES = ['node-unix-socket-linux-x64-gnu', 'node-unix-socket-linux-x64-musl'] as const;

let binding: ReuseportBinding | null = null;

function load(): ReuseportBinding {
  if (binding) return binding;
  for (const name of NATIVE_PACKAGES) {
    try {
      binding = require(name) as ReuseportBinding;
      return binding;
    } catch { /* try the next libc flavour */ }
  }
  throw new Error(`SO_REUSEPORT listeners (VIP listeners of the bind driver) need one of ${NATIVE_PACKAGES.join(', ')} (Linux x86-64); none could be loaded on ${process.platform}-${process.arch}`);
}

/** Why SO_REUSEPORT listeners cannot be made here, or null when they can (checked before workers are started). */
export function reuseportProblem(): string | null {
  try { load(); return null; } catch (err) { return (err as Error).message; }
}

/** The native part reports errno text with code 'Unknown'; callers (a bind waiting for its address) need the errno name. */
const ERRNO_TEXT: ReadonlyArray<readonly [RegExp, string]> = [
  [/cannot assign requested address/i, 'EADDRNOTAVAIL'],
  [/address already in use/i, 'EADDRINUSE'],
  [/permission denied/i, 'EACCES'],
];

/** A TCP socket with SO_REUSEADDR and SO_REUSEPORT bound to host:port; pass it to `server.listen({ fd })`. */
export function createReuseportFd(port: number, host: string): number {
  if (!isIP(host)) throw new Error(`invalid listen address ${host}`);
  const native = load();
  try {
    return native.socketNewSoReuseportFd(isIPv4(host) ? 'ipv4' : 'ipv6', port, host);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const code = ERRNO_TEXT.find(([re]) => re.test(e.message))?.[1];
    throw Object.assign(new Error(`bind ${host}:${port}: ${e.message}`), { code: code ?? e.code, syscall: 'bind', address: host, port });
  }
}
