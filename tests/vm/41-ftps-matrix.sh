#!/usr/bin/env bash
# FTPS through a DNAT router (placement c): real servers and clients, nf_ftpx
# against the in-tree nf_conntrack_ftp + nf_nat_ftp, on the same topology.
#
#   41-ftps-matrix.sh [vsftpd|proftpd|vsftpd-d]
#   (42-ftps-matrix-proftpd.sh: proftpd; 45-ftps-two-nats.sh: vsftpd-d)
#
#   client 198.51.100.2 -- [r: DNAT 21,990,2121,... -> 192.168.1.2] -- server 192.168.1.2
#   vsftpd-d, placement d, both sides behind NAT, nf_ftpx on both routers:
#   client 10.0.1.2 -- [r1: masquerade] -- 203.0.113.0/24 -- [r2: DNAT] -- server 192.168.1.2
#
# Every server runs twice at once: with its passive address set to the
# router's WAN address (vsftpd pasv_address, proftpd MasqueradeAddress) and
# without it. The router knows the server's passive range (`ftpxctl server
# set 192.168.1.2 pasv 50000-50019`), so nf_ftpx opens one "ftpx-gate"
# expectation per port of it when a session turns to TLS; the forward policy
# admits a data connection only as RELATED to helper "ftpx".
#   vsftpd:  explicit (ssl_enable, AUTH TLS) on 21 / 2121,
#            implicit (implicit_ssl) on 990 / 9990 (detected on any port)
#   proftpd: mod_tls explicit on 21 / 2121; TLSRequired auth+data (CCC
#            allowed) on 2123, used by the clients with CCC
# lftp 4.9.2 (GnuTLS) often takes the close_notify behind "200 CCC" for end
# of file ("Peer closed connection") and retries, with proftpd, pure-ftpd,
# and with no helper at all on the router (cf. proftpd#876): sessions it
# lost that way stay explicit-tls, and a transfer whose every attempt was
# lost is a skip (the client could not do CCC), not a failure.
# An encrypted 227 cannot be rewritten: with the address set the clients
# honour it, without it they ignore it as they do by default (curl, lftp
# ftp:fix-pasv-address, ftplib >= 3.10). After CCC the control channel is
# cleartext again and the 227 must be rewritten: the clients honour it.
#
# Per transfer with nf_ftpx: sha256; the data connection matched `ct state
# related ct helper "ftpx"`; the 227 address the client received; `ftpxctl
# sessions`: mode (explicit-tls, implicit-tls, cleared) of every control
# session, gates=0 and no gate expectation left once it closed; `ftpxctl
# stats` deltas (tls_explicit, tls_implicit, tls_cleared, gate_expects,
# gate_refused; expects/rewrites 0 inside TLS, > 0 after CCC, expect_fail
# 0). The same transfers then run with the in-tree helper.
# In d every check on the routers is made on both.
# Each transfer is one row of "$FTPX_OUT/tables/matrix.tsv" (id "ftps-...",
# helper ftpx|ftp). In-tree rows are data; nf_ftpx failures fail the case.
# ftpx-case-timeout: 480
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# pure-ftpd with TLS takes more than the default 10 s to listen in a busy
# TCG guest
: "${FTPX_START_TIMEOUT_MS:=30000}"
. "$here/../lib/runner.sh"
. "$here/../lib/ftp.sh"

SERVER=${1:-vsftpd}
TSV=$FTPX_OUT/tables/matrix.tsv
CTL=$FTPX_TOP/userspace/ftpxctl
PASV=50000-50019
NGATES=20
# an in-tree failure is expected: let it fail fast
INTREE_TIMEOUT=8

# ---------------------------------------------------------------- helpers

tsv_row() { # ID DESCRIPTION HELPER VERDICT [NOTE]
	mkdir -p "${TSV%/*}"
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >>"$TSV"
}

# rq NS SCRIPT: run a shell snippet in a router, one process for several
# queries (each `ip netns exec` costs most of a second in a busy TCG guest)
rq() { ip netns exec "$1" bash -c "$2"; }

# ctl_stat NAME STATS: one counter of an `ftpxctl stats` output
ctl_stat() { awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' <<<"$2"; }

# all_lines ERE TEXT: TEXT has lines and every one matches
all_lines() { [ -n "$2" ] && ! grep -v -q -E -- "$1" <<<"$2"; }

# gate expectations left on the router
gates_left() { rq "$1" "conntrack -L expect 2>/dev/null | grep -c 'class=1 helper=ftpx'"; }
no_gates_left() {
	local r
	for r in "${ROUTERS[@]}"; do [ "$(gates_left "$r")" = 0 ] || return 1; done
}

# use_helper ftpx|ftp: the router ruleset for that helper, no leftover state
use_helper() {
	HELPER=$1
	local r
	for r in "${ROUTERS[@]}"; do ip netns exec "$r" nft delete table inet ftpx 2>/dev/null; done
	router_rules_nft "$HELPER" --ports "$PORTS" --final reject || fail "ruleset for $HELPER"
	for r in "${ROUTERS[@]}"; do rq "$r" "conntrack -F; conntrack -F expect" >/dev/null 2>&1; done
}

# ---------------------------------------------------------------- scenarios

# A scenario is one server instance: NAME SERVER PORT TLS MASQ CCC DESC.
declare -A SC_SRV=() SC_PORT=() SC_TLS=() SC_MASQ=() SC_CCC=() SC_DESC=()
declare -A SC_USER=() SC_PASS=() SC_LOG=() SC_DIR=()
scenario() {
	SC_SRV[$1]=$2 SC_PORT[$1]=$3 SC_TLS[$1]=$4 SC_MASQ[$1]=$5 SC_CCC[$1]=$6 SC_DESC[$1]=$7
}

start_servers() {
	local n o srv
	for n in "${SCENARIOS[@]}"; do
		srv=${SC_SRV[$n]}
		o=(--tls "${SC_TLS[$n]}" --port "${SC_PORT[$n]}" --pasv "$PASV")
		# vsftpd's dual-stack listener would announce 0.0.0.0 (its
		# pasv_address needs listen=YES); proftpd resolves the host name
		# for its address unless given one (the guest's is in no hosts
		# file)
		[ "$srv" = vsftpd ] && o+=(--family 4)
		[ "$srv" = proftpd ] && o+=(--conf "DefaultAddress $S_ADDR4")
		[ "${SC_MASQ[$n]}" = yes ] && o+=(--masq "$S_PUB4")
		[ "${SC_CCC[$n]}" = yes ] && o+=(--ccc)
		server_start "$srv" "${o[@]}" || fail "$srv ${SC_DESC[$n]} did not start"
		SC_USER[$n]=$FTP_USER SC_PASS[$n]=$FTP_PASS SC_LOG[$n]=$SERVER_LOG SC_DIR[$n]=$SERVER_DIR
	done
}

# use_scenario NAME: point the library's "current server" at it
use_scenario() {
	FTP_USER=${SC_USER[$1]} FTP_PASS=${SC_PASS[$1]}
	# shellcheck disable=SC2034 # read by the library (ftp_xfer, server_log_tail)
	SERVER_TYPE=${SC_SRV[$1]} SERVER_PORT=${SC_PORT[$1]} SERVER_TLS=${SC_TLS[$1]}
	SERVER_LOG=${SC_LOG[$1]} SERVER_DIR=${SC_DIR[$1]}
}

tool_desc() {
	case $1 in
	curl) echo "curl" ;;
	lftp) echo "lftp" ;;
	ftplib) echo "Python ftplib FTP_TLS" ;;
	esac
}

# router_checks NS: nf_ftpx's view of the last transfer on one router, from
# the SNAP/S0 of xf (sessions and stats deltas)
router_checks() {
	local r=$1 lbl='' snap=${SNAP[$1]} s0=${S0[$1]} s1 sess n cleared want_mode
	[ ${#ROUTERS[@]} -gt 1 ] && lbl=" [$(ns_role "$r")]"
	s1=${snap%%@@*}
	sess=$(sed '/^$/d' <<<"${snap#*@@}")
	n=$(grep -c . <<<"$sess")
	cleared=$(grep -c '^mode=cleared ' <<<"$sess")
	case $tls/$ccc in
	*/yes) want_mode=cleared ;;
	explicit/*) want_mode=explicit-tls ;;
	implicit/*) want_mode=implicit-tls ;;
	esac
	echo "$sess" | sed "s/^/      session$lbl: /"
	if [ "$lost" -gt 0 ]; then
		echo "      lftp lost $lost session(s) right after 200 CCC (client bug), they stay explicit-tls"
		check "$XFER_DESC$lbl: $n control session(s), $cleared cleared, the $lost lost at CCC explicit-tls" \
			test "$cleared" -ge 1 -a $((cleared + lost)) -ge "$n"
		want_mode='(cleared|explicit-tls)'
	fi
	check "$XFER_DESC$lbl: $n control session(s), all mode=$want_mode, gates closed (gates=0)" \
		all_lines "^mode=$want_mode .* gates=0 " "$sess"
	_delta() { echo $(($(ctl_stat "$1" "$s1") - $(ctl_stat "$1" "$s0"))); }
	case $tls in
	explicit) check_eq "$XFER_DESC$lbl: stats tls_explicit +$n" "$(_delta tls_explicit)" "$n" ;;
	implicit) check_eq "$XFER_DESC$lbl: stats tls_implicit +$n" "$(_delta tls_implicit)" "$n" ;;
	esac
	check_eq "$XFER_DESC$lbl: stats gate_expects +$((n * NGATES))" "$(_delta gate_expects)" "$((n * NGATES))"
	check_eq "$XFER_DESC$lbl: stats gate_refused +0" "$(_delta gate_refused)" 0
	if [ "$ccc" = yes ]; then
		check_eq "$XFER_DESC$lbl: stats tls_cleared +$cleared" "$(_delta tls_cleared)" "$cleared"
		# cleartext again: the data command is handled as plain FTP;
		# a passive port inside the session's gates needs no second
		# expectation (gate_covered), any other port gets one
		local handled=$(($(_delta expects) + $(_delta gate_covered)))
		check "$XFER_DESC$lbl: 227/229/PORT handled after CCC (expects +$(_delta expects), gate_covered +$(_delta gate_covered))" \
			test "$handled" -gt 0
		check_eq "$XFER_DESC$lbl: stats expect_fail +0" "$(_delta expect_fail)" 0
		if [ "$mode" = pasv ] && [ "$masq" = no ]; then
			check "$XFER_DESC$lbl: stats rewrites > 0 after CCC, 227 to the WAN address ($(_delta rewrites))" \
				test "$(_delta rewrites)" -gt 0
		fi
	else
		check_eq "$XFER_DESC$lbl: stats tls_cleared +0" "$(_delta tls_cleared)" 0
		# nothing of a TLS session is parsed or rewritten
		check_eq "$XFER_DESC$lbl: stats expects +0 (TLS is opaque)" "$(_delta expects)" 0
		check_eq "$XFER_DESC$lbl: stats rewrites +0 (TLS is opaque)" "$(_delta rewrites)" 0
	fi
}

# xf SCENARIO TOOL OP MODE [FILE]: one transfer through the current helper,
# its checks (nf_ftpx only) and its row
xf() {
	local sc=$1 tool=$2 op=$3 mode=$4 file=${5:-64k.bin}
	local tls=${SC_TLS[$sc]} masq=${SC_MASQ[$sc]} ccc=${SC_CCC[$sc]}
	local id desc f0=$FTPX_FAILED t0 ms rc verdict note want_got='' r
	local -a o=(-4 --mode "$mode" --file "$file" --port "${SC_PORT[$sc]}" --tls "$tls")
	local -A S0=() SNAP=()
	id="ftps-$TOPO-$sc-$tool-$mode-$op"
	desc="$TOPO, ${SC_SRV[$sc]/pureftpd/pure-ftpd} ${SC_DESC[$sc]}, $(tool_desc "$tool")$([ "$ccc" = yes ] && echo " +CCC"), ${mode^^}, $([ "$op" = get ] && echo RETR || echo STOR)"
	# no passive address set: nothing can fix the encrypted 227, the
	# client has to use the control connection's peer (its default)
	[ "$masq" = no ] && [ "$ccc" = no ] && o+=(--pasv-addr ignore)
	[ "$ccc" = yes ] && o+=(--ccc)
	[ "$HELPER" = ftp ] && o+=(--timeout "$INTREE_TIMEOUT")

	use_scenario "$sc"
	# nf_ftpx: one control session per transfer on each router
	if [ "$HELPER" = ftpx ]; then
		for r in "${ROUTERS[@]}"; do S0[$r]=$(rq "$r" "conntrack -F 2>/dev/null; $CTL stats"); done
	fi
	t0=$(ftpx_now_ms)
	ftp_xfer "$tool" "$op" "${o[@]}"
	rc=$?
	ms=$(($(ftpx_now_ms) - t0))
	# at once: a closed control connection leaves the table in the end
	if [ "$HELPER" = ftpx ]; then
		for r in "${ROUTERS[@]}"; do
			SNAP[$r]=$(rq "$r" "$CTL stats; echo @@; $CTL sessions | grep -v '^mode=data'")
		done
	fi
	if [ $rc = 77 ]; then
		echo "SKIP: $id: $tool cannot do this"
		tsv_row "$id" "$desc" "$HELPER" skip "$tool cannot do this combination"
		return 0
	fi
	# lftp's CCC bug (see the top): count the sessions it lost at CCC; if
	# it never got as far as a 227/229, the client could not do it
	local lost=0
	[ "$ccc$tool" = yeslftp ] && lost=$(grep -c 'Peer closed connection' "$XFER_LOG")
	if [ "$XFER_RC" != 0 ] && [ -z "$XFER_GOT" ] && [ "$lost" -gt 0 ]; then
		echo "SKIP: $id: lftp lost every session right after 200 CCC (Peer closed connection)"
		tsv_row "$id" "$desc" "$HELPER" skip "lftp lost the control connection after 200 CCC in every attempt (client bug, also without a helper)"
		return 0
	fi
	# the note goes into docs/matrix.md: what the client saw, no ports
	set -- $XFER_GOT
	note="client got ${1:-no 227/229}${2:+ ${2/#-/(no address)}}; data connection"
	if [ "$HELPER" = ftp ]; then
		# data, not a verdict on the case
		if [ "$XFER_RC" = 0 ] && xfer_sha_ok; then verdict=pass; else verdict=fail; fi
		related_ok && note+=" RELATED" || note+=" not RELATED (refused)"
		echo "      in-tree: $id: $verdict ($note; $XFER_RELATED; ${ms} ms)"
		tsv_row "$id" "$desc" "$HELPER" "$verdict" "$note"
		return 0
	fi

	if [ "$mode" = pasv ]; then
		# masq or CCC (rewritten in cleartext): the WAN address; else the
		# server's own, untouched inside TLS
		if [ "$masq" = yes ] || [ "$ccc" = yes ]; then want_got=$S_PUB4; else want_got=$S_ADDR4; fi
	fi
	check_xfer ${want_got:+--got "$want_got"}
	# the gates go with the control connection (FIN/RST)
	check "$XFER_DESC: no gate expectation left after the session" busywait 5000 no_gates_left
	for r in "${ROUTERS[@]}"; do router_checks "$r"; done

	related_ok && note+=" RELATED" || note+=" not RELATED"
	if [ "$FTPX_FAILED" -gt "$f0" ]; then
		verdict=fail
		note+=" ($((FTPX_FAILED - f0)) checks failed)"
		for r in "${ROUTERS[@]}"; do
			echo "      stats [$(ns_role "$r")]: $(sed -n 's/^\([a-z_]*\) *\([1-9][0-9]*\)$/\1=\2/p' <<<"${SNAP[$r]%%@@*}" | tr '\n' ' ')"
		done
		server_log_tail 15
		client_log_tail 80
	else
		verdict=pass
	fi
	echo "      ($id: $verdict; $note; $XFER_RELATED; ${ms} ms)"
	tsv_row "$id" "$desc" "$HELPER" "$verdict" "$note"
}

# ---------------------------------------------------------------- the runs

# Each client on each kind of server, PASV and EPSV, RETR and STOR; the
# 227 address matters most without a passive address and after CCC.
transfers() {
	case $SERVER in
	vsftpd)
		xf vsftpd-exp-masq curl get pasv
		xf vsftpd-exp-masq lftp put epsv
		xf vsftpd-exp-nomasq ftplib put pasv
		xf vsftpd-imp-masq ftplib get pasv
		xf vsftpd-imp-nomasq lftp get pasv
		xf vsftpd-imp-nomasq curl put pasv
		;;
	proftpd)
		xf proftpd-exp-masq lftp get pasv
		xf proftpd-exp-nomasq curl put pasv
		xf proftpd-ccc-nomasq curl get epsv
		xf proftpd-ccc-nomasq ftplib get pasv
		xf proftpd-ccc-nomasq curl put pasv
		xf proftpd-ccc-nomasq lftp get pasv
		;;
	vsftpd-d)
		xf vsftpd-exp-masq curl get pasv
		xf vsftpd-imp-nomasq lftp get pasv
		;;
	esac
}

child() {
	local t0 n r
	t0=$(ftpx_now_ms)
	case $SERVER in *-d) topo_setup d ;; *) topo_setup c ;; esac
	case $SERVER in
	vsftpd)
		scenario vsftpd-exp-masq vsftpd 21 explicit yes no "explicit TLS, pasv_address WAN"
		scenario vsftpd-exp-nomasq vsftpd 2121 explicit no no "explicit TLS, no pasv_address"
		scenario vsftpd-imp-masq vsftpd 990 implicit yes no "implicit TLS (990), pasv_address WAN"
		scenario vsftpd-imp-nomasq vsftpd 9990 implicit no no "implicit TLS (9990), no pasv_address"
		SCENARIOS=(vsftpd-exp-masq vsftpd-exp-nomasq vsftpd-imp-masq vsftpd-imp-nomasq)
		;;
	proftpd)
		scenario proftpd-exp-masq proftpd 21 explicit yes no "mod_tls explicit, MasqueradeAddress WAN"
		scenario proftpd-exp-nomasq proftpd 2121 explicit no no "mod_tls explicit, no MasqueradeAddress"
		scenario proftpd-ccc-nomasq proftpd 2123 explicit no yes "TLSRequired auth+data, no MasqueradeAddress"
		SCENARIOS=(proftpd-exp-masq proftpd-exp-nomasq proftpd-ccc-nomasq)
		;;
	vsftpd-d)
		scenario vsftpd-exp-masq vsftpd 21 explicit yes no "explicit TLS, pasv_address WAN"
		scenario vsftpd-imp-nomasq vsftpd 990 implicit no no "implicit TLS (990), no pasv_address"
		SCENARIOS=(vsftpd-exp-masq vsftpd-imp-nomasq)
		;;
	*) fail "unknown server $SERVER" ;;
	esac
	PORTS=$(for n in "${SCENARIOS[@]}"; do echo "${SC_PORT[$n]}"; done | tr '\n' ' ')
	use_helper ftpx
	topo_diagram
	for r in "${ROUTERS[@]}"; do
		# closed control connections stay listed long enough to be read
		nsrun "$r" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_close=60
		# the server's address as this router sees it: the real one
		# behind its DNAT, else the public one
		n=$S_PUB4
		[ -n "${R_DNAT4[$r]:-}" ] && n=$S_ADDR4
		FTPX_TRACE_LVL=1 nsrun "$r" "$CTL" server set "$n" pasv "$PASV" || fail "ftpxctl server set in $r"
	done
	start_servers
	echo "######## setup: $(( ($(ftpx_now_ms) - t0) / 1000 )) s"

	t0=$(ftpx_now_ms)
	echo "######## helper ftpx"
	transfers
	echo "######## helper ftpx: $(( ($(ftpx_now_ms) - t0) / 1000 )) s"
	for r in "${ROUTERS[@]}"; do nsrun "$r" "$CTL" stats | tr -s ' ' '=' | tr '\n' ' '; echo; done

	t0=$(ftpx_now_ms)
	echo "######## helper ftp (in-tree nf_conntrack_ftp + nf_nat_ftp), rows are data"
	use_helper ftp
	transfers
	echo "######## helper ftp: $(( ($(ftpx_now_ms) - t0) / 1000 )) s"
	test_done
}

if [ "${FTPS_CHILD:-}" = 1 ]; then
	child
	exit $?
fi

# ---------------------------------------------------------------- driver

server_available "${SERVER%-d}" || skip "${SERVER%-d} not available"
require_cmd curl lftp conntrack nft
[ -x "$CTL" ] || skip "userspace/ftpxctl not built"
ftpx_load || fail "cannot load nf_ftpx"
loaded=''
if ! helper_available ftp; then
	modprobe -a nf_conntrack_ftp nf_nat_ftp || skip "no nf_conntrack_ftp/nf_nat_ftp"
	loaded='nf_nat_ftp nf_conntrack_ftp'
fi
helper_available ftpx || fail "helper \"ftpx\" not registered"
helper_available ftp || fail "helper \"ftp\" not registered"

FTPS_CHILD=1 "$0" "$SERVER"
rc=$?
if [ -n "$loaded" ]; then
	# the namespaces' conntracks (and so the helper references) go away
	# asynchronously with the netns cleanup work
	_unload_intree() { rmmod $loaded 2>/dev/null; }
	busywait 20000 _unload_intree || echo "NOTE: could not unload $loaded"
fi
exit $rc
