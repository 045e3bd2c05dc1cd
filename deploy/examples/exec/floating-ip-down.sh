#!/bin/sh
# wsha exec driver, `down` command: stop answering for the floating IP on
# THIS server. Arguments (appended by wsha):
#   $1 ACTION (down | cleanup)  $2 VIP  $3 ADDRESS  $4 NODE  $5 EPOCH
# It never unassigns the IP in the cloud: the new owner's `up` moves it, and
# `cleanup` (run at start and by `wsha vip cleanup` after a crash) must not
# take the address away from another server.
set -eu
action="$1" vip="$2" address="$3" node="$4"
iface="${WSHA_FIP_INTERFACE:-eth0}"

echo "floating ip $address ($vip): $action on node $node"
if ip -o addr show dev "$iface" | grep -q " $address/"; then
  ip addr del "$address/32" dev "$iface"
fi
