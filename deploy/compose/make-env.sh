#!/bin/sh
# Writes deploy/compose/secrets.env for docker-compose.yml: a random admin
# token (WSHA_ADMIN_TOKEN) and a random peer-link secret (WSHA_CLUSTER_SECRET,
# the same for both proxies) that only the proxy containers get. Run once;
# values already in the file are kept (a file from an older version that
# lacks the secret gets it added). The file is mode 0600 and ignored by git.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
file="$dir/secrets.env"
if [ -L "$file" ]; then
  echo "$file is a symbolic link; not writing through it" >&2
  exit 1
fi
umask 077
hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
added=""
if ! grep -q '^WSHA_ADMIN_TOKEN=.' "$file" 2>/dev/null; then
  printf 'WSHA_ADMIN_TOKEN=%s\n' "$(hex 24)" >> "$file"
  added="the admin token"
fi
if ! grep -q '^WSHA_CLUSTER_SECRET=.' "$file" 2>/dev/null; then
  printf 'WSHA_CLUSTER_SECRET=%s\n' "$(hex 32)" >> "$file"
  added="${added:+$added and }the cluster secret"
fi
chmod 600 "$file"
if [ -n "$added" ]; then echo "wrote $added of both proxies to $file (mode 0600)"; else echo "$file has both values; keeping it"; fi
