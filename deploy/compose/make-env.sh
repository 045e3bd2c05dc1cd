#!/bin/sh
# Writes deploy/compose/secrets.env for docker-compose.yml: a random admin
# token (WSHA_ADMIN_TOKEN) that only the proxy containers get. Run once; an
# existing file is kept. The file is mode 0600 and ignored by git.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
file="$dir/secrets.env"
if [ -e "$file" ] || [ -L "$file" ]; then
  echo "$file exists; keeping it"
  exit 0
fi
umask 077
token=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
printf 'WSHA_ADMIN_TOKEN=%s\n' "$token" > "$file"
echo "wrote $file (mode 0600): the admin token of both proxies"
