#!/usr/bin/env bash
# Set-up for running wsha from a clone: Debian packages it needs, npm
# packages, and the build. Idempotent and quick when everything is there.
#   setup.sh demo   redis-server, npm packages, build
#   setup.sh test   the above plus redis-sentinel, redis-tools, arping, socat (the guard's raw GARP sender),
#                   procps, ipv6toolkit (na6), iproute2,
#                   nftables (network faults inside test namespaces), chromium
set -euo pipefail
cd "$(dirname "$0")/../.."
mode="${1:-demo}"

need=()
command -v redis-server >/dev/null || need+=(redis-server)
if [ "$mode" = test ]; then
  command -v redis-sentinel >/dev/null || need+=(redis-sentinel)
  command -v arping >/dev/null || need+=(iputils-arping)
  command -v socat >/dev/null || need+=(socat)
  command -v sysctl >/dev/null || need+=(procps)
  command -v na6 >/dev/null || need+=(ipv6toolkit)
  command -v ip >/dev/null || need+=(iproute2)
  command -v nft >/dev/null || need+=(nftables)
  command -v redis-cli >/dev/null || need+=(redis-tools)
  command -v chromium >/dev/null || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "wsha needs these Debian packages: ${need[*]} (run as root or: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "installing Debian packages: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The Debian packages start their own services; wsha starts its own on free ports.
  for svc in redis-server redis-sentinel; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then systemctl stop "$svc" || true; fi
  done
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages" >&2
  npm ci --ignore-scripts --no-audit --no-fund >/dev/null
fi
echo "building" >&2
npm run -s build
