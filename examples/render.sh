#!/usr/bin/env bash
# Usage: examples/render.sh FILE NAME=VALUE...
#
# Print FILE with every @NAME@ placeholder replaced by VALUE, e.g.
#   examples/render.sh examples/home-router-dnat.nft WAN_IF=eth0 LAN_IF=eth1 \
#       SERVER_IP=192.168.1.10 > /etc/nftables.d/ftpx.nft
# Each file lists its placeholders at the top. Fails, printing nothing, when
# a placeholder is left without a value; extra NAME=VALUE pairs are ignored,
# so one set of values can render several files.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,3s/^# //p' "$0" >&2; exit 2; }
file=$1
shift
text=$(< "$file")
for kv in "$@"; do
	case $kv in
	[A-Z]*=*) ;;
	*) echo "render: '$kv' is not NAME=VALUE" >&2; exit 2 ;;
	esac
	text=${text//@${kv%%=*}@/${kv#*=}}
done
left=$(grep -o '@[A-Z][A-Z0-9_]*@' <<< "$text" | sort -u | tr '\n' ' ' || true)
if [ -n "$left" ]; then
	echo "render: $file: no value for ${left% }" >&2
	exit 1
fi
printf '%s\n' "$text"
