#!/usr/bin/env bash
# The NAT matrix with real servers and clients, nf_ftpx ("ftpx") against the
# in-tree nf_conntrack_ftp + nf_nat_ftp ("ftp"):
#
#   30-matrix-ab.sh [LANE...]   lanes a and b (30-matrix-cd.sh: c and d,
#                               30-matrix-servers.sh: c+proftpd d+pureftpd)
#
#   a  client 198.51.100.2 -- r (routes) ------------ server 203.0.113.2
#   b  client 10.0.1.2 ----- r (masquerade) --------- server 203.0.113.2
#   c  client 198.51.100.2 - r (DNAT 21 -> server) -- server 192.168.1.2
#   d  client 10.0.1.2 - r1 (masq) - 203.0.113.0/24 - r2 (DNAT) - server 192.168.1.2
#   IPv6 the same with NAT66: 2001:db8:1::/64 and 2001:db8:2::/64 public,
#   fd00:1::/64 and fd00:2::/64 private (each lane prints its diagram).
#
# A lane is one placement with its own namespaces in its own process; the
# two lanes of a case run at the same time (the guest has two CPUs). The
# routers' forward policy admits a data connection only as RELATED to a
# control connection of the helper under test (router_rules_nft). For each
# helper in turn:
#   lane a, b, c, d   vsftpd + curl: PORT, PASV, EPRT, EPSV over IPv4 and
#                     EPRT, EPSV over IPv6 (PORT and PASV cannot carry an
#                     IPv6 address), RETR and STOR
#   lane c+SERVER,    vsftpd + lftp and Python ftplib, then SERVER (proftpd,
#        d+SERVER     pure-ftpd) with curl, lftp, ftplib: PASV, EPSV, PORT,
#                     EPRT, both directions, both families between them
#
# Per transfer: sha256 of both files; the address the client received in
# the 227 (PASV) or the server got in PORT/EPRT after NAT; for EPSV the port
# the client got is the one the server sent; and the data connection passed
# `ct state related ct helper "HELPER"` on every router, so it was created
# from the helper's expectation: that rule adds each data connection's
# family and port to a set, read once per helper (rule counters read before
# and after every transfer would cost two process starts each, and process
# starts are what is slow under TCG).
#
# Each transfer is one row of "$FTPX_OUT/tables/matrix.tsv" (docs/matrix.md
# via scripts/gen-tables.sh). The in-tree rows are data, not verdicts: the
# case fails only on nf_ftpx rows.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/ftp.sh"

TSV=$FTPX_OUT/tables/matrix.tsv
# which helpers, in this order (MATRIX_HELPERS=ftp: a host run with the
# built-in in-tree helper)
HELPERS=${MATRIX_HELPERS:-ftpx ftp}
# the guest may share two host cores with other VMs: no spurious timeouts
FTPX_XFER_TIMEOUT=30
FTPX_START_TIMEOUT_MS=30000

# The related check reads the set (see above); ftp_xfer need not count.
related_counts() { :; }

# v6_norm ADDR: RFC 5952 text form of an IPv6 address (nf_nat_ftp writes
# EPRT addresses fully expanded), in bash: Python takes seconds to start
# under TCG. Anything else comes back unchanged.
v6_norm() {
	local a=${1,,} i best=-1 blen=0 run=0
	local -a h=() t=() g=()
	if [[ $a != *:* || $a == *[!0-9a-f:]* || $a == *:::* ]]; then
		echo "$1"
		return
	fi
	if [[ $a == *::* ]]; then
		[[ ${a#*::} == *::* ]] && { echo "$1"; return; }
		[ -n "${a%%::*}" ] && IFS=: read -r -a h <<<"${a%%::*}"
		[ -n "${a#*::}" ] && IFS=: read -r -a t <<<"${a#*::}"
		g=("${h[@]}")
		for ((i = ${#h[@]} + ${#t[@]}; i < 8; i++)); do g+=(0); done
		g+=("${t[@]}")
	else
		IFS=: read -r -a g <<<"$a"
	fi
	[ ${#g[@]} = 8 ] || { echo "$1"; return; }
	for i in 0 1 2 3 4 5 6 7; do
		[[ ${g[i]} =~ ^[0-9a-f]{1,4}$ ]] || { echo "$1"; return; }
		printf -v "g[i]" '%x' $((16#${g[i]}))
	done
	# the longest run of two or more zero groups, the first of equals
	for i in 0 1 2 3 4 5 6 7 8; do
		if [ $i -lt 8 ] && [ "${g[i]}" = 0 ]; then
			run=$((run + 1))
		else
			[ $run -gt $blen ] && [ $run -ge 2 ] && { blen=$run; best=$((i - run)); }
			run=0
		fi
	done
	local IFS=:
	if [ $best -lt 0 ]; then
		echo "${g[*]}"
	else
		echo "${g[*]:0:best}::${g[*]:best+blen}"
	fi
}

declare -A NAME=([pasv]=PASV [epsv]=EPSV [port]=PORT [eprt]=EPRT [pureftpd]=pure-ftpd
	[ftplib]="Python ftplib" [get]=RETR [put]=STOR [vsftpd]=vsftpd [proftpd]=proftpd
	[curl]=curl [lftp]=lftp)

# Rows of the current helper, finished by rows_flush once the set is read
ROW_ID=() ROW_DESC=() ROW_FAILED=() ROW_KEY=() ROW_NOTE=()

# xf TOOL OP FAMILY MODE: one transfer with the current server and helper
# and its checks but the related one; the row waits for rows_flush
xf() {
	local tool=$1 op=$2 fam=$3 mode=$4 id desc f0=$FTPX_FAILED t0 rc ms
	local note sums s1 s2 log want got sg=''
	id="$P-v$fam-$mode-$SERVER_TYPE-$tool-$op"
	desc="$P, ${NAME[$mode]}, IPv$fam, ${NAME[$SERVER_TYPE]}, ${NAME[$tool]}, ${NAME[$op]}"
	t0=${EPOCHREALTIME/./}
	ftp_xfer "$tool" "$op" "-$fam" --mode "$mode" --file 64k.bin
	rc=$?
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	if [ $rc = 77 ]; then
		echo "SKIP: $id: $tool cannot do $mode on IPv$fam"
		ROW_ID+=("$id") ROW_DESC+=("$desc") ROW_FAILED+=(skip) ROW_KEY+=('') ROW_NOTE+=("$tool cannot do this")
		return 0
	fi
	if [ "$XFER_RC" != 0 ]; then
		check "$XFER_DESC: transfer" false
		client_log_tail 25
	else
		# one sha256sum for both files
		sums=$(sha256sum "$XFER_SRC" "$XFER_DST")
		s1=${sums%% *} s2=${sums#*$'\n'} s2=${s2%% *}
		check "$XFER_DESC: sha256 of both files equal" test -n "$s1" -a "$s1" = "${s2:-}"
		case $mode in
		port | eprt | epsv) log=$(server_log_tail 40) ;;
		esac
		case $mode in
		pasv)
			check_eq "$XFER_DESC: client got" "$(client_got_addr)" "$(s_pub "$fam")"
			;;
		port | eprt)
			sg=$(_ftp_parse_cmds <<<"$log")
			got=$(set -- $sg; echo "${2:-}")
			check_eq "$XFER_DESC: server got" "$(v6_norm "$got")" "$(v6_norm "$(c_pub "$fam")")"
			sg="; server got '$sg'"
			;;
		epsv)
			# pure-ftpd does not log its replies
			want=$(_ftp_parse_replies <<<"$log")
			[ -n "$want" ] && check_eq "$XFER_DESC: client got the server's EPSV port" \
				"$(client_got_port)" "${want##* }"
			;;
		esac
	fi
	note="client got '$XFER_GOT'$sg"
	echo "      ($HELPER $id: $note; $ms ms)"
	[ "$XFER_RC" = 0 ] || note="transfer failed (client exit ${XFER_RC_CLIENT:-?}); $note"
	ROW_ID+=("$id") ROW_DESC+=("$desc") ROW_FAILED+=($((FTPX_FAILED - f0)))
	ROW_KEY+=("$([ "$fam" = 6 ] && echo ipv6 || echo ipv4) . $(client_got_port)") ROW_NOTE+=("$note")
	if [ "$FTPX_FAILED" -gt "$f0" ]; then
		if [ "$HELPER" = ftp ]; then
			server_log_tail 10
		elif [ "$FTPX_DUMPED" = 0 ]; then
			dump_state
		else
			server_log_tail 15
		fi
	fi
}

# rows_flush: the related check of every row of this helper (the data
# connection's family and port in each router's set), then the rows
rows_flush() {
	local -A seen=()
	local r i v f0 key e
	for r in "${ROUTERS[@]}"; do
		# elements = { ipv4 . 40123, ipv6 . 2121 }
		for e in $(ip netns exec "$r" nft list set inet ftpx seen |
			tr -d '\n\t ' | sed -n 's/.*elements={\([^}]*\)}.*/\1/p' | tr ',' ' '); do
			seen[$r/$e]=1
		done
	done
	for i in "${!ROW_ID[@]}"; do
		v=${ROW_FAILED[i]}
		if [ "$v" != skip ]; then
			f0=$FTPX_FAILED
			key=${ROW_KEY[i]// /}
			if [ "$v" = 0 ]; then
				for r in "${ROUTERS[@]}"; do
					check "$HELPER ${ROW_ID[i]}: data connection RELATED via ct helper \"$HELPER\" on [$(ns_role "$r")] (${ROW_KEY[i]})" \
						test -n "${seen[$r/$key]:-}"
				done
			fi
			if [ "$v" = 0 ] && [ "$FTPX_FAILED" = "$f0" ]; then
				v=pass ROW_NOTE[i]=''
			else
				[ "$FTPX_FAILED" = "$f0" ] || ROW_NOTE[i]+="; not seen as RELATED via ct helper \"$HELPER\""
				v=fail
				[ "$HELPER" = ftp ] && echo "NOTE: in-tree row ${ROW_ID[i]}: fail (recorded, not counted)"
			fi
		fi
		mkdir -p "${TSV%/*}"
		printf '%s\t%s\t%s\t%s\t%s\n' "${ROW_ID[i]}" "${ROW_DESC[i]}" "$HELPER" "$v" "${ROW_NOTE[i]}" >>"$TSV"
	done
	# in-tree results are data, not this case's verdict
	[ "$HELPER" = ftp ] && FTPX_FAILED=$FTPX_OK_FAILED
	ROW_ID=() ROW_DESC=() ROW_FAILED=() ROW_KEY=() ROW_NOTE=()
}

# use HELPER: the routers' ruleset for HELPER, with the set of related
# data connections
use() {
	local r
	HELPER=$1
	# failures from now on are in-tree data (see rows_flush)
	FTPX_OK_FAILED=$FTPX_FAILED
	for r in "${ROUTERS[@]}"; do
		[ "$FTPX_HELPER" != "$HELPER" ] && ip netns exec "$r" nft delete table inet ftpx 2>/dev/null
	done
	if [ "$FTPX_HELPER" != "$HELPER" ]; then
		router_rules_nft "$HELPER" || fail "router rules for $HELPER"
	else
		for r in "${ROUTERS[@]}"; do ip netns exec "$r" nft flush set inet ftpx seen 2>/dev/null; done
	fi
	for r in "${ROUTERS[@]}"; do
		ip netns exec "$r" nft -f - <<EOF || fail "set of related connections"
add set inet ftpx seen { typeof meta nfproto . tcp dport; flags dynamic; }
insert rule inet ftpx forward ct state related ct helper "$HELPER" update @seen { meta nfproto . tcp dport }
EOF
	done
	echo "#### lane $LANE, server $SERVER_TYPE, helper $HELPER"
}

# the whole matrix with curl
curl_matrix() {
	local op m
	for op in get put; do
		for m in pasv epsv port eprt; do xf curl $op 4 $m; done
		for m in epsv eprt; do xf curl $op 6 $m; done
	done
}

subset_vsftpd() {
	xf lftp get 4 pasv
	xf lftp put 6 eprt
	xf ftplib put 4 port
	xf ftplib get 6 epsv
}

subset_other() {
	xf curl get 4 pasv
	xf curl put 4 port
	xf lftp get 6 epsv
	xf ftplib put 6 eprt
}

# mark WHAT: elapsed time in the lane's log
mark() { echo "TIME: lane $LANE: $SECONDS s: $*"; }

# lane PLACEMENT[+SERVER]: the whole run of one lane, in its own process
lane() {
	local h other=${1#*+}
	LANE=$1 P=${1%%+*}
	[ "$other" = "$1" ] && other=''
	topo_setup "$P"
	mark "topology"
	HELPER=${HELPERS%% *}
	router_rules_nft "$HELPER" || fail "router rules"
	topo_diagram
	mark "rules"
	server_start vsftpd || fail "vsftpd did not start"
	mark "vsftpd"
	for h in $HELPERS; do
		use "$h"
		if [ -z "$other" ]; then
			curl_matrix
		else
			subset_vsftpd
		fi
		rows_flush
		mark "helper $h with vsftpd"
	done
	if [ -n "$other" ]; then
		server_stop || fail "vsftpd did not stop"
		# proftpd resolves the host name for its address unless given
		# one (the guest's is in no hosts file); pure-ftpd's account
		# needs openssl, which blocks until the guest's CRNG is ready
		case $other in
		proftpd) set -- --conf "DefaultAddress $S_ADDR4" ;;
		*) set -- ; declare -F ftpx_rng_ready >/dev/null && ftpx_rng_ready ;;
		esac
		server_start "$other" "$@" || fail "$other did not start"
		mark "$other"
		for h in $HELPERS; do
			use "$h"
			subset_other
			rows_flush
			mark "helper $h with $other"
		done
	fi
	test_done
}

if [ "${1:-}" = --lane ]; then
	lane "$2"
fi

# ---------------------------------------------------------------- driver
LANES=${*:-a b}
server_available vsftpd || skip "vsftpd not installed"
require_cmd curl lftp nft conntrack
if [[ " $HELPERS " == *" ftpx "* ]]; then
	ftpx_load || fail "cannot load nf_ftpx"
fi
settle_on_exit
if [[ " $HELPERS " == *" ftp "* ]]; then
	intree_load fail
fi

# each lane's log beside the case's, where it survives a timeout
mkdir -p "$FTPX_OUT/cases"
declare -A pid=()
for l in $LANES; do
	"$0" --lane "$l" >"$FTPX_OUT/cases/30-matrix.$l.log" 2>&1 &
	pid[$l]=$!
done
rc=0
for l in $LANES; do
	wait "${pid[$l]}"
	lrc=$?
	echo "################ lane $l: exit $lrc (${FTPX_OUT_HOST:-$FTPX_OUT}/cases/30-matrix.$l.log)"
	cat "$FTPX_OUT/cases/30-matrix.$l.log"
	[ $lrc = 0 ] || rc=1
done
echo "TIME: $SECONDS s"
[ $rc = 0 ] && echo "OK: lanes $LANES" || echo "FAIL: lanes $LANES"
exit $rc
