#!/bin/sh
# wsha exec driver, `up` command: point the cloud floating IP at this server
# and configure the address locally. Arguments (appended by wsha):
#   $1 ACTION (up | announce)  $2 VIP  $3 ADDRESS  $4 NODE  $5 EPOCH
# Needs: hcloud CLI with HCLOUD_TOKEN in the environment (wsha.env), and
# HCLOUD_SERVER (this server's name in the cloud; defaults to the host name).
# Idempotent: running it when the IP already points here changes nothing.
set -eu
action="$1" vip="$2" address="$3" node="$4" epoch="$5"
server="${HCLOUD_SERVER:-$(hostname)}"
iface="${WSHA_FIP_INTERFACE:-eth0}"

echo "floating ip $address ($vip): $action on $server, node $node, epoch $epoch"
# The provider routes the address to the server it is assigned to.
hcloud floating-ip assign "$address" "$server"
# The server must also accept packets for it.
ip -o addr show dev "$iface" | grep -q " $address/" || ip addr add "$address/32" dev "$iface"
