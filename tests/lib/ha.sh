# shellcheck shell=bash disable=SC2034
# (SC2034: variables set here are the API read by the test cases)
# Topology "ha": two routers sharing virtual addresses, their conntrack
# tables kept in step by conntrackd (FTFW over UDP on a dedicated link),
# and a failover as Debian's primary-backup.sh does it. Sourced after
# net.sh/ftp.sh; everything goes away with their EXIT trap.
#
#   client 198.51.100.2 (c)
#        |  brc (switch sw)
#   c0 of r1 (primary)   c0 of r2 (backup)     VIP 198.51.100.1 on the active one
#   r1  sync0 10.99.0.1 ---- sync0 10.99.0.2  r2     conntrackd FTFW, UDP 3780
#   s0 of r1             s0 of r2              VIP 192.168.10.1 on the active one
#        |  brs (switch sw)
#   server 192.168.10.2, 192.168.10.22 (s)
#
# Both routers DNAT the VIP's ports 21/990 to 192.168.10.2 and 2121 to
# 192.168.10.22:21. "192,168,10,2" and "198,51,100,1" have the same length,
# so the helper's rewrite of a 227 reply from .2 keeps the payload length;
# from .22 it shortens it by one byte (sequence adjustment, which does not
# reach the backup's committed conntrack: docs/ha.md).
#
#   ha_require               skip without conntrackd/conntrack/nft
#   ha_setup                 namespaces, links, addresses; VIPs on r1
#   ha_rules                 the same nft ruleset on both routers
#   ha_conntrackd_start      conntrackd in r1 and r2, sync link up
#   ha_failover              r1 dies (links down); r2 takes the VIPs,
#                            announces them (gratuitous ARP) and commits
#                            conntrackd's external cache
#   ha_ctd ROLE ARGS...      conntrackd client call in r1/r2 with its config
#   ha_ext_has ROLE ct|expect PATTERN   conntrackd's external cache has it
#   ha_count ROLE NAME       packets of the rule commented NAME

HA_VIP_C=198.51.100.1
HA_VIP_S=192.168.10.1
HA_SRV=192.168.10.2
HA_SRV_LONG=192.168.10.22
HA_DIR=$(ftpx_tmpdir)/ha
HA_ACTIVE=r1
mkdir -p "$HA_DIR"

ha_require() {
	require_cmd conntrackd conntrack nft
	modprobe bridge 2>/dev/null
	modprobe nf_conntrack_netlink 2>/dev/null || skip "nf_conntrack_netlink not available"
	modprobe nf_nat 2>/dev/null
	# the served files, the clients and the servers read the RNG
	ftpx_rng_ready
}

# _ha_port NS IF BRIDGE: veth from NS (named IF) to the switch's BRIDGE
_ha_port() {
	local ns=$1 dev=$2 br=$3 peer
	peer="$(ns_role "$1")$4"
	ns_link "$ns" "$dev" "$NS_SW" "$peer"
	ip -n "$NS_SW" link set "$peer" master "$br" || ftpx_die "bridge port $peer"
}

ha_setup() {
	local r br
	TOPO=ha
	TOPO_DESC="client public - r1/r2 (VIP, DNAT to server, conntrackd) - server private"
	ns_add sw NS_SW
	ns_add c NS_C
	ns_add r1 NS_R1
	ns_add r2 NS_R2
	ns_add s NS_S
	NS_R=$NS_R1
	ROUTERS=("$NS_R1" "$NS_R2")
	for br in brc brs; do
		ip -n "$NS_SW" link add "$br" type bridge forward_delay 0 stp_state 0 ||
			ftpx_die "bridge $br (no bridge module?)"
		ip -n "$NS_SW" link set "$br" up
	done
	_ha_port "$NS_C" eth0 brc c
	_ha_port "$NS_S" eth0 brs s
	for r in "$NS_R1" "$NS_R2"; do
		R_CIF[$r]=c0
		R_SIF[$r]=s0
		ns_forwarding "$r"
		_ha_port "$r" c0 brc c
		_ha_port "$r" s0 brs s
		# the backup's ftpxd listens on the VIP before it has it
		nsrun "$r" sysctl -qw net.ipv4.ip_nonlocal_bind=1 >/dev/null
	done
	ns_link "$NS_R1" sync0 "$NS_R2" sync0
	ns_addr "$NS_R1" sync0 10.99.0.1/30
	ns_addr "$NS_R2" sync0 10.99.0.2/30
	ns_addr "$NS_C" eth0 198.51.100.2/24
	ns_addr "$NS_S" eth0 "$HA_SRV/24" "$HA_SRV_LONG/24"
	ns_addr "$NS_R1" c0 "$HA_VIP_C/24"
	ns_addr "$NS_R1" s0 "$HA_VIP_S/24"
	ns_route "$NS_S" default via "$HA_VIP_S"
	C_ADDR4=198.51.100.2 C_PUB4=198.51.100.2
	S_ADDR4=$HA_SRV S_PUB4=$HA_VIP_C
	C_ADDR6='' C_PUB6='' S_ADDR6='' S_PUB6=''
	C_IF=eth0 S_IF=eth0
	export NS_C NS_R NS_R1 NS_R2 NS_S NS_SW C_ADDR4 C_PUB4 S_ADDR4 S_PUB4 TOPO
}

ha_diagram() {
	sed -n '/^#   client 198/,/^#   server/s/^#//p' "${BASH_SOURCE[0]}"
	echo "active router: $HA_ACTIVE"
}

# ha_rules: what router_rules_nft writes for placement c, plus port 2121,
# the NAT of data connections whose expectation conntrackd committed (it
# carries no NAT; the data connection is DNATed like its master), and
# hint-lib.bash's input rule: a data SYN that beats its hint is dropped
# (and retransmitted) instead of refused by the router itself
ha_rules() {
	local r rs
	rs="table inet ftpx {
	ct helper ftpx-std {
		type \"ftpx\" protocol tcp
	}
	chain helper {
		type filter hook prerouting priority -150; policy accept;
		tcp dport { 21, 990, 2121 } ct helper set \"ftpx-std\"
	}
	chain dstnat {
		type nat hook prerouting priority dstnat; policy accept;
		iifname \"c0\" ip daddr $HA_VIP_C tcp dport { 21, 990 } dnat ip to $HA_SRV
		iifname \"c0\" ip daddr $HA_VIP_C tcp dport 2121 dnat ip to $HA_SRV_LONG:21
		iifname \"c0\" ip daddr $HA_VIP_C ct state related ct helper \"ftpx\" counter dnat ip to $HA_SRV comment \"ftpx:ha-related-nat\"
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname \"c0\" ct state new tcp dport != { 21, 990 } counter drop comment \"ftpx:unsolicited\"
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established counter accept comment \"ftpx:established\"
		ct state related ct helper \"ftpx\" counter accept comment \"ftpx:related\"
		meta l4proto { icmp, ipv6-icmp } accept
		iifname \"c0\" ct state new tcp dport { 21, 990 } counter accept comment \"ftpx:ctrl\"
		counter drop comment \"ftpx:drop\"
	}
}"
	FTPX_RULES=nft FTPX_HELPER=ftpx FTPX_HELPER_PORTS="21 990 2121" FTPX_POLICY=drop
	for r in "${ROUTERS[@]}"; do
		ftpx_log 2 "+ [$(ns_role "$r")] nft -f - <<EOF"$'\n'"$rs"$'\n'"EOF"
		ip netns exec "$r" nft -f - <<<"$rs" || {
			echo "nft ruleset rejected in $r" >&2
			return 1
		}
	done
}

# ha_count ROLE NAME: packets counted by the rule commented NAME in table
# inet ftpx of router ROLE (r1/r2), whichever chain it is in
ha_count() {
	ip netns exec "$(ns_of "$1")" nft list table inet ftpx 2>/dev/null |
		sed -n "s/.*counter packets \([0-9]*\) .*comment \"$2\".*/\1/p" | head -n1
}

_ha_conf() {
	local role=$1 me=$2 peer=$3
	cat <<EOF
# generated by tests/lib/ha.sh ($role)
Sync {
	Mode FTFW {
		DisableExternalCache Off
	}
	UDP {
		IPv4_address $me
		IPv4_Destination_Address $peer
		Port 3780
		Interface sync0
		SndSocketBuffer 1249280
		RcvSocketBuffer 1249280
		Checksum on
	}
	Options {
		ExpectationSync {
			ftpx
			ftp
		}
	}
}
General {
	HashSize 8192
	HashLimit 65536
	LogFile $HA_DIR/conntrackd-$role.log
	Syslog off
	LockFile $HA_DIR/conntrackd-$role.lock
	UNIX {
		Path $HA_DIR/conntrackd-$role.ctl
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
	Filter From Userspace {
		Protocol Accept {
			TCP
		}
		Address Ignore {
			IPv4_address 127.0.0.1
			IPv4_address 10.99.0.1
			IPv4_address 10.99.0.2
		}
	}
}
EOF
}

ha_ctd() {
	local role=$1
	shift
	nsrun "$(ns_of "$role")" conntrackd -C "$HA_DIR/conntrackd-$role.conf" "$@"
}

ha_conntrackd_start() {
	local role me peer
	for role in r1 r2; do
		me=10.99.0.1 peer=10.99.0.2
		[ "$role" = r2 ] && me=10.99.0.2 peer=10.99.0.1
		_ha_conf "$role" "$me" "$peer" >"$HA_DIR/conntrackd-$role.conf"
		FTPX_TRACE_LVL=1 ha_ctd "$role" -d || {
			tail -n 20 "$HA_DIR/conntrackd-$role.log" >&2
			return 1
		}
		_ha_ctd_up() { ha_ctd "$role" -s >/dev/null 2>&1; }
		busywait 10000 _ha_ctd_up || {
			echo "conntrackd in $role does not answer" >&2
			tail -n 20 "$HA_DIR/conntrackd-$role.log" >&2
			return 1
		}
	done
}

# ha_ext_has ROLE WHAT PATTERN: the external cache (what the peer sent) of
# conntrackd in ROLE lists an entry (ct or expect) matching PATTERN
ha_ext_has() {
	ha_ctd "$1" -e "$2" 2>/dev/null | grep -q -- "$3"
}


# ha_failover: r1 stops forwarding (its links go down, as if it died);
# r2 takes the VIPs, sends gratuitous ARPs and, as primary-backup.sh
# "primary" does: commit the external cache (conntracks, then
# expectations), flush the caches, resync from the kernel, bulk-send.
# Sets HA_MOVE_MS (addresses and ARP) and HA_COMMIT_MS (the two commits).
ha_failover() {
	local t0 t1
	ip -n "$NS_R1" link set c0 down
	ip -n "$NS_R1" link set s0 down
	t0=$(ftpx_now_ms)
	ns_addr "$NS_R2" c0 "$HA_VIP_C/24"
	ns_addr "$NS_R2" s0 "$HA_VIP_S/24"
	# the switch learns the ports, the neighbours update their ARP entry
	nsrun "$NS_R2" "$FTPX_PYTHON" "$FTPX_LIBDIR/tools/garp.py" \
		c0 "$HA_VIP_C" s0 "$HA_VIP_S" || return 1
	t1=$(ftpx_now_ms)
	HA_MOVE_MS=$((t1 - t0))
	FTPX_TRACE_LVL=1 ha_ctd r2 -c ct || return 1
	FTPX_TRACE_LVL=1 ha_ctd r2 -c expect || return 1
	HA_COMMIT_MS=$(($(ftpx_now_ms) - t1))
	FTPX_TRACE_LVL=1 ha_ctd r2 -f || return 1
	FTPX_TRACE_LVL=1 ha_ctd r2 -R || return 1
	FTPX_TRACE_LVL=1 ha_ctd r2 -B || return 1
	HA_ACTIVE=r2
	NS_R=$NS_R2
}

ha_dump() {
	local role
	for role in r1 r2; do
		echo "--- conntrackd $role: log"
		tail -n 30 "$HA_DIR/conntrackd-$role.log" 2>/dev/null
		echo "--- conntrackd $role: internal / external cache"
		ha_ctd "$role" -i ct 2>&1 | tail -n 20
		ha_ctd "$role" -e ct 2>&1 | tail -n 20
		ha_ctd "$role" -i expect 2>&1 | tail -n 20
		ha_ctd "$role" -e expect 2>&1 | tail -n 20
		ha_ctd "$role" -s 2>&1 | tail -n 40
	done
}
eval "_ha_orig_dump_state() $(declare -f dump_state | tail -n +2)"
dump_state() {
	_ha_orig_dump_state
	ha_dump
}
