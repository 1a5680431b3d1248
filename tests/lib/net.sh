# shellcheck shell=bash disable=SC2034
# (SC2034: variables set here are the API read by the test cases)
# Network namespace topologies for the nf_ftpx tests.
#
# A case sources this file (and ftp.sh, dump.sh), calls topo_setup with one
# of the four placements of the seed articles, installs the router ruleset
# with router_rules_nft or router_rules_ipt, and everything it created is
# torn down by the EXIT trap set here.  Use cleanup_push instead of your own
# EXIT trap.  Namespace names carry the shell's pid, so cases run in parallel.
#
#   a  client public  - router (routes, stateful firewall) - server public
#   b  client private - router (masquerade on WAN)        - server public
#   c  client public  - router (DNAT 21/990 to server)    - server private
#   d  client private - r1 (masquerade) - public - r2 (DNAT) - server private
#
# Public hosts have no default route towards a NAT router's private side, so
# an address that escaped the rewrite fails at once (ENETUNREACH) instead of
# leaking through.

[ -n "${_FTPX_NET_SH:-}" ] && return 0
_FTPX_NET_SH=1

FTPX_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FTPX_TOP=$(cd "$FTPX_LIBDIR/../.." && pwd)
# 0 quiet, 1 print client/server commands, 2 also every setup command
: "${FTPX_VERBOSE:=1}"
: "${FTPX_NS_PREFIX:=ftpx}"
# ports the helper is attached to (and DNATed, and let through the firewall)
: "${FTPX_HELPER_PORTS:=21 990}"
# pre: after conntrack, before DNAT (prerouting -150); post: after DNAT (0)
: "${FTPX_HELPER_ATTACH:=pre}"
: "${FTPX_IPT_VARIANT:=nft}"
# the Debian interpreter: the guest resolves the same paths, not a pyenv shim
: "${FTPX_PYTHON:=/usr/bin/python3}"
FTPX_ID="$FTPX_NS_PREFIX-$$"

FTPX_NS_LIST=()
FTPX_CLEANUP_CMDS=()
ROUTERS=()
TOPO_LINKS=()
FTPX_RULES=''
FTPX_HELPER=''
FTPX_POLICY=drop
FTPX_FINAL=drop
declare -gA R_CIF=() R_SIF=() R_SNAT=() R_DNAT4=() R_DNAT6=() R_NOTE=()

ftpx_log() {
	local lvl=$1
	shift
	[ "$FTPX_VERBOSE" -ge "$lvl" ] && printf '%s\n' "$*" >&2
	return 0
}

ftpx_die() {
	printf 'ERROR: %s\n' "$*" >&2
	exit 1
}

# Monotonic enough for polling: microseconds from bash itself, no fork.
ftpx_now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# Per-test scratch directory (configs, logs, FTP root, client downloads),
# made here and not on first use: callers read it inside $(...), where a
# lazily made one would be lost to the subshell and never cleaned up.
FTPX_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ftpx.$$.XXXXXX") || ftpx_die "mktemp failed"
# servers drop to the ftp user after chroot; let them reach it
chmod 755 "$FTPX_TMP"

ftpx_tmpdir() {
	echo "$FTPX_TMP"
}

cleanup_push() {
	FTPX_CLEANUP_CMDS+=("$*")
}

ftpx_cleanup() {
	local rc=$? i ns pids left
	trap - EXIT
	for ((i = ${#FTPX_CLEANUP_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${FTPX_CLEANUP_CMDS[i]}" >/dev/null 2>&1 || true
	done
	declare -F server_stop_all >/dev/null && server_stop_all >/dev/null 2>&1
	# Everything still running inside our namespaces was started by us.
	for ns in "${FTPX_NS_LIST[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill $pids 2>/dev/null
	done
	for ns in "${FTPX_NS_LIST[@]}"; do
		_ftpx_ns_empty() { [ -z "$(ip netns pids "$ns" 2>/dev/null)" ]; }
		if ! busywait 2000 _ftpx_ns_empty; then
			left=$(ip netns pids "$ns" 2>/dev/null)
			[ -n "$left" ] && kill -9 $left 2>/dev/null
		fi
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$FTPX_TMP" ] && [ -d "$FTPX_TMP" ]; then
		if [ -n "${FTPX_KEEP:-}" ]; then
			echo "kept $FTPX_TMP" >&2
		else
			# pure-ftpd's private /dev was bound under it, in a mount
			# namespace gone by now; stay on this filesystem regardless
			rm -rf --one-file-system "$FTPX_TMP"
		fi
	fi
	exit "$rc"
}
trap ftpx_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# role of a namespace name: ftpx-1234-r1 -> r1
ns_role() {
	echo "${1##*-}"
}

# nsrun NS CMD...: run in a namespace, traced at verbosity LVL (default 2)
nsrun() {
	local ns=$1
	shift
	ftpx_log "${FTPX_TRACE_LVL:-2}" "+ [$(ns_role "$ns")] $*"
	ip netns exec "$ns" "$@"
}

# on ROLE CMD...: c, r, r1, r2 or s
on() {
	local role=$1 ns
	shift
	ns=$(ns_of "$role") || return 1
	nsrun "$ns" "$@"
}

ns_of() {
	case $1 in
	c) echo "$NS_C" ;;
	s) echo "$NS_S" ;;
	r | r1) echo "$NS_R1" ;;
	r2) [ -n "$NS_R2" ] && echo "$NS_R2" || return 1 ;;
	*) [ -n "$1" ] && ip netns list | grep -q "^$1\b" && echo "$1" || return 1 ;;
	esac
}

# ns_add ROLE VAR: create namespace $FTPX_ID-ROLE and store its name in VAR
ns_add() {
	local name="$FTPX_ID-$1"
	ip netns add "$name" || ftpx_die "ip netns add $name"
	FTPX_NS_LIST+=("$name")
	printf -v "$2" '%s' "$name"
	ip -n "$name" link set lo up
	# nodad on each address too; accept_dad=0 also covers link-locals
	nsrun "$name" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		>/dev/null || ftpx_die "sysctl in $name"
}

# veth pair between two namespaces
ns_link() {
	local nsa=$1 ifa=$2 nsb=$3 ifb=$4
	ftpx_log 2 "+ link [$(ns_role "$nsa")] $ifa <-> [$(ns_role "$nsb")] $ifb"
	ip -n "$nsa" link add "$ifa" type veth peer name "$ifb" netns "$nsb" ||
		ftpx_die "veth $ifa/$ifb"
	ip -n "$nsa" link set "$ifa" up
	ip -n "$nsb" link set "$ifb" up
}

# ns_addr NS IF ADDR/PLEN...: IPv4 and IPv6 (nodad) addresses
ns_addr() {
	local ns=$1 dev=$2 a
	shift 2
	for a in "$@"; do
		ftpx_log 2 "+ [$(ns_role "$ns")] ip addr add $a dev $dev"
		case $a in
		*:*) ip -n "$ns" addr add "$a" dev "$dev" nodad ;;
		*) ip -n "$ns" addr add "$a" dev "$dev" ;;
		esac || ftpx_die "addr $a on $ns/$dev"
	done
}

ns_route() {
	local ns=$1
	shift
	ftpx_log 2 "+ [$(ns_role "$ns")] ip route add $*"
	case "$*" in
	*:*) ip -n "$ns" -6 route add "$@" ;;
	*) ip -n "$ns" route add "$@" ;;
	esac || ftpx_die "route $* in $ns"
}

ns_forwarding() {
	nsrun "$1" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 >/dev/null ||
		ftpx_die "forwarding in $1"
}

# topo_setup PLACEMENT (a|b|c|d)
#
# Exports NS_C NS_S NS_R (=NS_R1) NS_R1 NS_R2 (d only), ROUTERS (array),
# C_ADDR4/6 (client's own), C_PUB4/6 (client as the server sees it),
# S_ADDR4/6 (server's own), S_PUB4/6 (what the client connects to),
# C_IF/S_IF (eth0), TOPO, TOPO_DESC.  Per router (assoc arrays by ns name):
# R_CIF (iface towards the client), R_SIF (towards the server),
# R_SNAT (iface to masquerade on), R_DNAT4/R_DNAT6 (DNAT target).
topo_setup() {
	local p=${1:?usage: topo_setup a|b|c|d}
	TOPO=$p
	NS_R2=''
	C_IF=eth0
	S_IF=eth0
	case $p in
	a | b | c)
		ns_add c NS_C
		ns_add r NS_R1
		ns_add s NS_S
		ROUTERS=("$NS_R1")
		;;
	d)
		ns_add c NS_C
		ns_add r1 NS_R1
		ns_add r2 NS_R2
		ns_add s NS_S
		ROUTERS=("$NS_R1" "$NS_R2")
		;;
	*) ftpx_die "unknown placement '$p' (a|b|c|d)" ;;
	esac
	NS_R=$NS_R1
	local r
	for r in "${ROUTERS[@]}"; do
		R_CIF[$r]=c0
		R_SIF[$r]=s0
		ns_forwarding "$r"
	done

	case $p in
	a)
		TOPO_DESC="client public + server public (router routes, stateful firewall)"
		ns_link "$NS_C" eth0 "$NS_R" c0
		ns_link "$NS_R" s0 "$NS_S" eth0
		ns_addr "$NS_C" eth0 198.51.100.2/24 2001:db8:1::2/64
		ns_addr "$NS_R" c0 198.51.100.1/24 2001:db8:1::1/64
		ns_addr "$NS_R" s0 203.0.113.1/24 2001:db8:2::1/64
		ns_addr "$NS_S" eth0 203.0.113.2/24 2001:db8:2::2/64
		ns_route "$NS_C" default via 198.51.100.1
		ns_route "$NS_C" default via 2001:db8:1::1
		ns_route "$NS_S" default via 203.0.113.1
		ns_route "$NS_S" default via 2001:db8:2::1
		C_ADDR4=198.51.100.2 C_ADDR6=2001:db8:1::2
		C_PUB4=$C_ADDR4 C_PUB6=$C_ADDR6
		S_ADDR4=203.0.113.2 S_ADDR6=2001:db8:2::2
		S_PUB4=$S_ADDR4 S_PUB6=$S_ADDR6
		R_NOTE[$NS_R]="routes; forward policy drop"
		TOPO_LINKS=("public 198.51.100.0/24 2001:db8:1::/64" "public 203.0.113.0/24 2001:db8:2::/64")
		;;
	b)
		TOPO_DESC="client private (router masquerades on WAN) + server public"
		ns_link "$NS_C" eth0 "$NS_R" c0
		ns_link "$NS_R" s0 "$NS_S" eth0
		ns_addr "$NS_C" eth0 10.0.1.2/24 fd00:1::2/64
		ns_addr "$NS_R" c0 10.0.1.1/24 fd00:1::1/64
		ns_addr "$NS_R" s0 203.0.113.1/24 2001:db8:2::1/64
		ns_addr "$NS_S" eth0 203.0.113.2/24 2001:db8:2::2/64
		ns_route "$NS_C" default via 10.0.1.1
		ns_route "$NS_C" default via fd00:1::1
		C_ADDR4=10.0.1.2 C_ADDR6=fd00:1::2
		C_PUB4=203.0.113.1 C_PUB6=2001:db8:2::1
		S_ADDR4=203.0.113.2 S_ADDR6=2001:db8:2::2
		S_PUB4=$S_ADDR4 S_PUB6=$S_ADDR6
		R_SNAT[$NS_R]=s0
		R_NOTE[$NS_R]="masquerade on s0 (WAN); forward policy drop"
		TOPO_LINKS=("private 10.0.1.0/24 fd00:1::/64" "public 203.0.113.0/24 2001:db8:2::/64")
		;;
	c)
		TOPO_DESC="client public + server private (router DNATs the FTP ports)"
		ns_link "$NS_C" eth0 "$NS_R" c0
		ns_link "$NS_R" s0 "$NS_S" eth0
		ns_addr "$NS_C" eth0 198.51.100.2/24 2001:db8:1::2/64
		ns_addr "$NS_R" c0 198.51.100.1/24 2001:db8:1::1/64
		ns_addr "$NS_R" s0 192.168.1.1/24 fd00:2::1/64
		ns_addr "$NS_S" eth0 192.168.1.2/24 fd00:2::2/64
		ns_route "$NS_S" default via 192.168.1.1
		ns_route "$NS_S" default via fd00:2::1
		C_ADDR4=198.51.100.2 C_ADDR6=2001:db8:1::2
		C_PUB4=$C_ADDR4 C_PUB6=$C_ADDR6
		S_ADDR4=192.168.1.2 S_ADDR6=fd00:2::2
		S_PUB4=198.51.100.1 S_PUB6=2001:db8:1::1
		R_DNAT4[$NS_R]=$S_ADDR4
		R_DNAT6[$NS_R]=$S_ADDR6
		R_NOTE[$NS_R]="DNAT c0:{ports} -> server; forward policy drop"
		TOPO_LINKS=("public 198.51.100.0/24 2001:db8:1::/64" "private 192.168.1.0/24 fd00:2::/64")
		;;
	d)
		TOPO_DESC="client private (r1 masquerades) + server private (r2 DNATs)"
		ns_link "$NS_C" eth0 "$NS_R1" c0
		ns_link "$NS_R1" s0 "$NS_R2" c0
		ns_link "$NS_R2" s0 "$NS_S" eth0
		ns_addr "$NS_C" eth0 10.0.1.2/24 fd00:1::2/64
		ns_addr "$NS_R1" c0 10.0.1.1/24 fd00:1::1/64
		ns_addr "$NS_R1" s0 203.0.113.1/24 2001:db8:2::1/64
		ns_addr "$NS_R2" c0 203.0.113.2/24 2001:db8:2::2/64
		ns_addr "$NS_R2" s0 192.168.1.1/24 fd00:2::1/64
		ns_addr "$NS_S" eth0 192.168.1.2/24 fd00:2::2/64
		ns_route "$NS_C" default via 10.0.1.1
		ns_route "$NS_C" default via fd00:1::1
		ns_route "$NS_S" default via 192.168.1.1
		ns_route "$NS_S" default via fd00:2::1
		C_ADDR4=10.0.1.2 C_ADDR6=fd00:1::2
		C_PUB4=203.0.113.1 C_PUB6=2001:db8:2::1
		S_ADDR4=192.168.1.2 S_ADDR6=fd00:2::2
		S_PUB4=203.0.113.2 S_PUB6=2001:db8:2::2
		R_SNAT[$NS_R1]=s0
		R_DNAT4[$NS_R2]=$S_ADDR4
		R_DNAT6[$NS_R2]=$S_ADDR6
		R_NOTE[$NS_R1]="masquerade on s0 (WAN); forward policy drop"
		R_NOTE[$NS_R2]="DNAT c0:{ports} -> server; forward policy drop"
		TOPO_LINKS=("private 10.0.1.0/24 fd00:1::/64" "public 203.0.113.0/24 2001:db8:2::/64"
			"private 192.168.1.0/24 fd00:2::/64")
		;;
	esac
	export NS_C NS_R NS_R1 NS_R2 NS_S C_ADDR4 C_ADDR6 C_PUB4 C_PUB6 \
		S_ADDR4 S_ADDR6 S_PUB4 S_PUB6 TOPO
}

# family helpers: s_pub 4|6, c_addr 4|6, ... ; bracketed for URLs: url_host
s_pub() { [ "${1:-4}" = 6 ] && echo "$S_PUB6" || echo "$S_PUB4"; }
s_addr() { [ "${1:-4}" = 6 ] && echo "$S_ADDR6" || echo "$S_ADDR4"; }
c_addr() { [ "${1:-4}" = 6 ] && echo "$C_ADDR6" || echo "$C_ADDR4"; }
c_pub() { [ "${1:-4}" = 6 ] && echo "$C_PUB6" || echo "$C_PUB4"; }
url_host() { case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }

# addr_norm ADDR: canonical text form (nf_nat_ftp writes EPRT IPv6 addresses
# fully expanded, 2001:0db8:0002:0000:...); other words pass unchanged
addr_norm() {
	case $1 in
	*:*) "$FTPX_PYTHON" -c 'import ipaddress, sys
try:
    print(ipaddress.ip_address(sys.argv[1]))
except ValueError:
    print(sys.argv[1])' "$1" ;;
	*) echo "$1" ;;
	esac
}

# ---------------------------------------------------------------- diagram

# _box WIDTH LINE...: one box; an empty first line draws no top border
_box_line() { printf '| %-*s |\n' "$1" "$2"; }
_box_rule() { printf '+%s+\n' "$(printf '%*s' $(($1 + 2)) '' | tr ' ' -)"; }

_ifline() {
	local ns=$1 dev=$2 a4 a6
	a4=$(ip -n "$ns" -4 -o addr show dev "$dev" 2>/dev/null | awk '{print $4; exit}')
	a6=$(ip -n "$ns" -6 -o addr show dev "$dev" scope global 2>/dev/null | awk '{print $4; exit}')
	printf '%-5s %-17s %s' "$dev" "$a4" "$a6"
}

# topo_diagram: print the topology as stacked boxes with links between
topo_diagram() {
	local -a boxes=() ls=()
	local w=0 l r b i
	boxes+=("client  $NS_C|$(_ifline "$NS_C" eth0)")
	for r in "${ROUTERS[@]}"; do
		l=${R_NOTE[$r]//\{ports\}/\{$FTPX_HELPER_PORTS\}}
		b="$(_ifline "$r" c0)|router  $r|  $l|$(_ifline "$r" s0)"
		boxes+=("$b")
	done
	boxes+=("$(_ifline "$NS_S" eth0)|server  $NS_S")
	for b in "${boxes[@]}"; do
		IFS='|' read -r -a ls <<<"$b"
		for l in "${ls[@]}"; do [ ${#l} -gt $w ] && w=${#l}; done
	done
	echo "placement $TOPO: $TOPO_DESC"
	for i in "${!boxes[@]}"; do
		if [ "$i" -gt 0 ]; then
			printf '%*s|\n' 12 ''
			printf '%*s|   %s\n' 12 '' "${TOPO_LINKS[i - 1]}"
			printf '%*s|\n' 12 ''
		fi
		_box_rule "$w"
		IFS='|' read -r -a ls <<<"${boxes[i]}"
		for l in "${ls[@]}"; do _box_line "$w" "$l"; done
		_box_rule "$w"
	done
	echo "client connects to $S_PUB4 / [$S_PUB6]; server sees client as $C_PUB4 / [$C_PUB6]"
	[ -n "$FTPX_RULES" ] &&
		echo "rules: $FTPX_RULES, helper \"$FTPX_HELPER\" on tcp {$FTPX_HELPER_PORTS}, attached $FTPX_HELPER_ATTACH, forward policy $FTPX_POLICY"
	return 0
}

# topo_ping [FAMILY...]: ICMP echo client -> server public address, bounded
# (tools/ping.py: iputils-ping is not among the dependencies)
topo_ping() {
	local f ok=0
	local -a fams=("$@")
	[ ${#fams[@]} -gt 0 ] || fams=(4 6)
	for f in "${fams[@]}"; do
		if ! busywait 3000 ip netns exec "$NS_C" "$FTPX_PYTHON" "$FTPX_LIBDIR/tools/ping.py" \
			"$(s_pub "$f")" >/dev/null; then
			echo "ping -$f $NS_C -> $(s_pub "$f") failed" >&2
			ok=1
		fi
	done
	return $ok
}

# ---------------------------------------------------------------- rules

_ports_nft() { echo "$1" | tr -s ' ' | sed 's/^ //; s/ $//; s/ /, /g'; }
_ports_csv() { echo "$1" | tr -s ' ' | sed 's/^ //; s/ $//; s/ /,/g'; }

# helper_available HELPER: the kernel knows a conntrack helper of that name
# for TCP (the nft ct helper object is refused otherwise); probed in a
# throwaway namespace so nothing lingers
helper_available() {
	local ns="$FTPX_ID-probe" rc
	ip netns add "$ns" 2>/dev/null || return 1
	ip netns exec "$ns" nft -f - >/dev/null 2>&1 <<EOF
table inet probe {
	ct helper h {
		type "$1" protocol tcp
	}
}
EOF
	rc=$?
	ip netns del "$ns"
	return $rc
}

# The in-tree baseline (nf_conntrack_ftp + nf_nat_ftp) inside a case.
# Modules this case loaded, unloaded again when it ends.
FTPX_INTREE_LOADED=''

# intree_load [fail|skip]: load nf_conntrack_ftp and nf_nat_ftp (an nft ct
# helper of type "ftp" autoloads only nf_conntrack_ftp, which then creates
# expectations but rewrites nothing); end the case with fail (default) or
# skip when the helper "ftp" is not there.
intree_load() {
	local how=${1:-fail} m
	if [ -e /proc/modules ]; then
		for m in nf_nat_ftp nf_conntrack_ftp; do
			[ -d /sys/module/$m ] || FTPX_INTREE_LOADED+=" $m"
		done
		modprobe -a nf_conntrack_ftp nf_nat_ftp || "$how" "cannot load nf_conntrack_ftp nf_nat_ftp"
	fi
	helper_available ftp || "$how" "no conntrack helper \"ftp\""
}

_settled() {
	local m
	for m in $FTPX_INTREE_LOADED; do rmmod "$m" 2>/dev/null; done
	for m in $FTPX_INTREE_LOADED; do [ ! -d "/sys/module/$m" ] || return 1; done
	[ "$(cat /sys/module/nf_ftpx/refcnt 2>/dev/null || echo 0)" = 0 ]
}

# settle_on_exit: when the case exits, clean up (ftpx_cleanup ends in exit:
# run it apart), then wait until the deleted namespaces' rulesets and
# conntracks, which the kernel tears down later, no longer hold nf_ftpx or
# the in-tree modules this case loaded (the runner unloads nf_ftpx next).
settle_on_exit() {
	trap '_rc=$?; (ftpx_cleanup); busywait 30000 _settled || echo "NOTE: modules still in use:$FTPX_INTREE_LOADED nf_ftpx"; exit $_rc' EXIT
}

# router_rules_nft HELPER [--ports "21 990 ..."] [--attach pre|post|raw]
#                  [--policy drop|accept] [--final drop|reject]
#
# On every router: table inet ftpx with a ct helper object "ftpx-std" of type
# HELPER attached on the ports, masquerade/DNAT as the placement needs, and a
# forward chain (policy drop) that lets through only the control connection,
# established traffic and related connections whose master has HELPER.
# attach pre:  prerouting priority -150 (after conntrack at -200, before
#              DNAT at -100: the helper is there before NAT, seqadj added)
# attach post: prerouting priority filter (0), after DNAT
# attach raw:  priority raw (-300), before conntrack: `ct helper set` finds no
#              conntrack there and does nothing (kept for negative tests)
# policy accept: forward everything (the counters still count); for checking
#              a server/client setup apart from the helper, e.g. FTPS
# final reject: end the forward chain with a counted reject (TCP reset)
#              instead of the silent drop, so an expected failure is quick
router_rules_nft() {
	local helper=${1:?usage: router_rules_nft HELPER [--ports P] [--attach pre|post|raw] [--policy drop|accept]}
	shift
	local ports=$FTPX_HELPER_PORTS attach=$FTPX_HELPER_ATTACH prio r
	FTPX_POLICY=drop FTPX_FINAL=drop
	while [ $# -gt 0 ]; do
		case $1 in
		--ports) ports=$2; shift 2 ;;
		--attach) attach=$2; shift 2 ;;
		--policy) FTPX_POLICY=$2; shift 2 ;;
		--final) FTPX_FINAL=$2; shift 2 ;;
		*) ftpx_die "router_rules_nft: unknown option $1" ;;
		esac
	done
	case $attach in
	pre) prio=-150 ;;
	post) prio=filter ;;
	raw) prio=raw ;;
	*) ftpx_die "router_rules_nft: --attach pre|post|raw" ;;
	esac
	FTPX_RULES=nft FTPX_HELPER=$helper FTPX_HELPER_PORTS=$ports FTPX_HELPER_ATTACH=$attach
	for r in "${ROUTERS[@]}"; do
		_nft_router "$r" "$helper" "$(_ports_nft "$ports")" "$prio" || return 1
	done
}

# the counted last rule of the forward chain
_nft_final() {
	if [ "$FTPX_POLICY" = accept ]; then
		echo 'counter accept comment "ftpx:drop"'
	elif [ "$FTPX_FINAL" = reject ]; then
		echo 'meta l4proto tcp counter reject with tcp reset comment "ftpx:drop"'
		echo '		counter reject comment "ftpx:drop-other"'
	else
		echo 'counter drop comment "ftpx:drop"'
	fi
}

_ipt_final() {
	if [ "$FTPX_POLICY" = accept ]; then
		echo "-A FORWARD -m comment --comment ftpx:drop -j ACCEPT"
	elif [ "$FTPX_FINAL" = reject ]; then
		echo "-A FORWARD -p tcp -m comment --comment ftpx:drop -j REJECT --reject-with tcp-reset"
		echo "-A FORWARD -m comment --comment ftpx:drop-other -j REJECT"
	else
		echo "-A FORWARD -m comment --comment ftpx:drop -j DROP"
	fi
}

_nft_router() {
	local ns=$1 helper=$2 pset=$3 prio=$4 rs
	local cif=${R_CIF[$ns]} snat=${R_SNAT[$ns]:-} d4=${R_DNAT4[$ns]:-} d6=${R_DNAT6[$ns]:-}
	rs="table inet ftpx {
	ct helper ftpx-std {
		type \"$helper\" protocol tcp
	}
	chain helper {
		type filter hook prerouting priority $prio; policy accept;
		tcp dport { $pset } ct helper set \"ftpx-std\"
	}"
	if [ -n "$d4$d6" ]; then
		rs+="
	chain dstnat {
		type nat hook prerouting priority dstnat; policy accept;
		iifname \"$cif\" meta nfproto ipv4 tcp dport { $pset } dnat ip to $d4
		iifname \"$cif\" meta nfproto ipv6 tcp dport { $pset } dnat ip6 to $d6
	}"
	fi
	if [ -n "$snat" ]; then
		rs+="
	chain srcnat {
		type nat hook postrouting priority srcnat; policy accept;
		oifname \"$snat\" masquerade
	}"
	fi
	rs+="
	chain forward {
		type filter hook forward priority filter; policy $FTPX_POLICY;
		ct state established counter accept comment \"ftpx:established\"
		ct state related ct helper \"$helper\" counter accept comment \"ftpx:related\"
		ct state related meta l4proto { icmp, ipv6-icmp } accept
		meta l4proto { icmp, ipv6-icmp } accept
		iifname \"$cif\" ct state new tcp dport { $pset } counter accept comment \"ftpx:ctrl\"
		$(_nft_final)
	}
}"
	ftpx_log 2 "+ [$(ns_role "$ns")] nft -f - <<EOF"$'\n'"$rs"$'\n'"EOF"
	ip netns exec "$ns" nft -f - <<<"$rs" || {
		echo "nft ruleset rejected in $ns" >&2
		return 1
	}
}

# router_rules_ipt HELPER [--ports "21 990"] [--variant nft|legacy]
#                  [--policy drop|accept] [--final drop|reject]
#
# The same policy with iptables/ip6tables: CT --helper in raw PREROUTING
# (a template, so the helper is there from the first packet, before NAT),
# MASQUERADE/DNAT, FORWARD policy DROP with -m helper on RELATED.
# The variant defaults to $FTPX_IPT_VARIANT (iptables-nft or iptables-legacy).
router_rules_ipt() {
	local helper=${1:?usage: router_rules_ipt HELPER [--ports P] [--variant nft|legacy]}
	shift
	local ports=$FTPX_HELPER_PORTS variant=$FTPX_IPT_VARIANT r
	FTPX_POLICY=drop FTPX_FINAL=drop
	while [ $# -gt 0 ]; do
		case $1 in
		--ports) ports=$2; shift 2 ;;
		--variant) variant=$2; shift 2 ;;
		--policy) FTPX_POLICY=$2; shift 2 ;;
		--final) FTPX_FINAL=$2; shift 2 ;;
		--attach)
			[ "$2" = pre ] || { echo "iptables: CT target exists only in raw (attach pre)" >&2; return 77; }
			shift 2 ;;
		*) ftpx_die "router_rules_ipt: unknown option $1" ;;
		esac
	done
	case $variant in nft | legacy) ;; *) ftpx_die "router_rules_ipt: --variant nft|legacy" ;; esac
	FTPX_RULES=ipt-$variant FTPX_HELPER=$helper FTPX_HELPER_PORTS=$ports FTPX_HELPER_ATTACH=pre
	FTPX_IPT_VARIANT=$variant
	for r in "${ROUTERS[@]}"; do
		_ipt_router "$r" "$helper" "$(_ports_csv "$ports")" 4 "$variant" || return 1
		_ipt_router "$r" "$helper" "$(_ports_csv "$ports")" 6 "$variant" || return 1
	done
}

_ipt_cmd() {
	[ "$1" = 6 ] && echo "ip6tables-$2" || echo "iptables-$2"
}

_ipt_router() {
	local ns=$1 helper=$2 plist=$3 fam=$4 variant=$5 rs icmp d
	local cif=${R_CIF[$ns]} snat=${R_SNAT[$ns]:-}
	if [ "$fam" = 6 ]; then d=${R_DNAT6[$ns]:-}; icmp=ipv6-icmp; else d=${R_DNAT4[$ns]:-}; icmp=icmp; fi
	rs="*raw
-A PREROUTING -p tcp -m multiport --dports $plist -j CT --helper $helper
COMMIT
*nat
"
	[ -n "$d" ] && rs+="-A PREROUTING -i $cif -p tcp -m multiport --dports $plist -j DNAT --to-destination $d
"
	[ -n "$snat" ] && rs+="-A POSTROUTING -o $snat -j MASQUERADE
"
	rs+="COMMIT
*filter
:FORWARD ${FTPX_POLICY^^} [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED -m comment --comment ftpx:established -j ACCEPT
-A FORWARD -m conntrack --ctstate RELATED -m helper --helper $helper -m comment --comment ftpx:related -j ACCEPT
-A FORWARD -p $icmp -j ACCEPT
-A FORWARD -i $cif -p tcp -m multiport --dports $plist -m conntrack --ctstate NEW -m comment --comment ftpx:ctrl -j ACCEPT
$(_ipt_final)
COMMIT
"
	ftpx_log 2 "+ [$(ns_role "$ns")] $(_ipt_cmd "$fam" "$variant")-restore <<EOF"$'\n'"$rs""EOF"
	ip netns exec "$ns" "$(_ipt_cmd "$fam" "$variant")-restore" -w <<<"$rs" || {
		echo "$(_ipt_cmd "$fam" "$variant")-restore rejected the ruleset in $ns" >&2
		return 1
	}
}

# rule_count NS NAME: packets counted by the rule commented NAME
# (ftpx:established, ftpx:related, ftpx:ctrl, ftpx:drop); v4+v6 for iptables
rule_count() {
	local ns=$1 name=$2 n=0 f c
	case $FTPX_RULES in
	nft)
		ip netns exec "$ns" nft list chain inet ftpx forward 2>/dev/null |
			sed -n "s/.*counter packets \([0-9]*\) .*comment \"$name\".*/\1/p" | head -n1
		;;
	ipt-*)
		for f in 4 6; do
			c=$(ip netns exec "$ns" "$(_ipt_cmd $f "$FTPX_IPT_VARIANT")" -w -vxnL FORWARD 2>/dev/null |
				awk -v n="/* $name */" 'index($0, n) {print $1; exit}')
			n=$((n + ${c:-0}))
		done
		echo "$n"
		;;
	*) echo 0 ;;
	esac
}

# related_counts: "ns=count ..." of the ftpx:related rule on every router
related_counts() {
	local r out=''
	for r in "${ROUTERS[@]}"; do
		out+="$r=$(rule_count "$r" ftpx:related) "
	done
	echo "${out% }"
}

# related_delta BEFORE AFTER: "r1:+N r2:+M" per router
related_delta() {
	local -A b=()
	local kv out=''
	for kv in $1; do b[${kv%%=*}]=${kv#*=}; done
	for kv in $2; do
		out+="$(ns_role "${kv%%=*}"):+$((${kv#*=} - ${b[${kv%%=*}]:-0})) "
	done
	echo "${out% }"
}
