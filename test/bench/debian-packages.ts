/**
 * Installs the peer proxies the benchmark compares against (nginx, HAProxy)
 * from Debian's packages when their binaries are missing: `apt-get update`
 * then `apt-get install`, as root, saying what it installs. The packages'
 * services are never started: when the machine has no invoke-rc.d policy,
 * one that refuses every start (exit 101, Debian's documented mechanism) is
 * put in place for the install and removed after it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';

/** A binary the bench needs and the Debian package that ships it. */
export interface DebianNeed { binary: string; pkg: string }

const POLICY_RC_D = '/usr/sbin/policy-rc.d';
const APT_TIMEOUT_MS = 5 * 60_000;

/** True when `binary` exists as an absolute path or on PATH. */
export function haveBinary(binary: string): boolean {
  if (binary.startsWith('/')) return existsSync(binary);
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

function apt(args: string[], log: (msg: string) => void): void {
  log(`running apt-get ${args.join(' ')}`);
  const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], timeout: APT_TIMEOUT_MS, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) throw new Error(`apt-get ${args[0]} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
}

/**
 * Makes sure every binary in `needs` is there, installing the missing
 * packages. Throws with a hint when they are missing and this is not root.
 */
export function ensureDebianPackages(needs: readonly DebianNeed[], log: (msg: string) => void): void {
  const missing = needs.filter((n) => !haveBinary(n.binary));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((n) => n.pkg))];
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${missing.map((n) => n.binary).join(', ')}: run as root to let the bench install the Debian packages ${pkgs.join(' ')}, install them yourself, or leave them out with --only`);
  }
  log(`installing from Debian's packages: ${pkgs.join(' ')} (their services are not started)`);
  const ownPolicy = !existsSync(POLICY_RC_D);
  if (ownPolicy) writeFileSync(POLICY_RC_D, '#!/bin/sh\n# written by the wsha bench for one apt-get install: start no service\nexit 101\n', { mode: 0o755 });
  try {
    apt(['update', '-qq'], log);
    apt(['install', '-y', '-qq', '--no-install-recommends', ...pkgs], log);
  } finally {
    if (ownPolicy) rmSync(POLICY_RC_D, { force: true });
  }
  const still = missing.filter((n) => !haveBinary(n.binary));
  if (still.length) throw new Error(`installed ${pkgs.join(' ')} but ${still.map((n) => n.binary).join(', ')} is still missing`);
}
