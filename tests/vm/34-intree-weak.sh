#!/usr/bin/env bash
# Known weaknesses of the in-tree nf_conntrack_ftp + nf_nat_ftp that nf_ftpx
# is meant to fix, measured with both helpers on the same wire: a scripted
# server (fakeftpd.py, records every line it receives) and a raw client
# (rawctl.py, one TCP segment per argument, each sent once the previous one
# is acknowledged).
#
#   b: client 10.0.1.2 -- [r: masquerade -> 203.0.113.1] -- server 203.0.113.2
#      w1  a command split across segments: "NOOP\r\n", "PO", "RT 10,0,1,2,4,1\r\n"
#      w2  two commands in one segment: "NOOP\r\n", "TYPE I\r\nPORT 10,0,1,2,4,3\r\n"
#   c: client 198.51.100.2 -- [r: DNAT 21,2121 -> 192.168.1.2] -- server 192.168.1.2
#      w3  "227 Entering Passive Mode (192,168,1,2,1,1)" as text inside a
#          multi-line 230 reply, all in one segment (port 21)
#      w4  the same reply with each line in its own segment (port 2121)
#      (then a real PASV, whose 227 must be rewritten)
#
# The leading NOOP makes the command start a segment that follows a newline
# the in-tree helper tracked: that is the only place it looks.
#
# Pass means the line was handled correctly: w1/w2 the PORT reached the
# server rewritten to 203.0.113.1 with one expectation and the control
# connection alive; w3/w4 the text reached the client unchanged and only the
# real 227 created an expectation. Each attempt is a row of matrix.tsv with
# what really happened (the line the server or client got, the expectations
# created). The case fails only if nf_ftpx gets a row wrong.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/net.sh"
. "$here/../lib/dump.sh"
PY=$FTPX_PYTHON
T=$here/../lib/tools
TSV=$FTPX_OUT/tables/matrix.tsv
HELPERS=${WEAK_HELPERS:-ftpx ftp}

tsv_row() { # ID DESCRIPTION VERDICT NOTE
	mkdir -p "${TSV%/*}"
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$HELPER" "$3" "$4" >>"$TSV"
}

# expectations created on the router so far (expect_create, all cpus)
created() {
	ip netns exec "$NS_R" conntrack -S expect 2>/dev/null |
		sed -n 's/.*expect_create=\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}'
}

use() { # use HELPER [router_rules_nft options]
	HELPER=$1
	shift
	if [ "$FTPX_HELPER" != "$HELPER" ]; then
		ip netns exec "$NS_R" nft delete table inet ftpx 2>/dev/null
		router_rules_nft "$HELPER" "$@" || fail "router rules for $HELPER"
	fi
	echo "#### placement $TOPO, helper $HELPER"
}

fake_start() { # fake_start PORT LOG [fakeftpd options]
	local port=$1 log=$2 pid
	shift 2
	rm -f "$log" "$log.ready"
	ip netns exec "$NS_S" "$PY" "$T/fakeftpd.py" "$(s_addr 4)" "$port" "$log" "$@" &
	pid=$!
	cleanup_push "kill $pid 2>/dev/null"
}

# raw PORT [--extra N] SEG...: the raw client; sets RAW_OUT, RAW_ALIVE
raw() {
	local port=$1
	shift
	local -a x=()
	[ "$1" = --extra ] && { x=(--extra "$2"); shift 2; }
	# no expectation left from an earlier attempt: an equal one would
	# make NAT pick another data port
	ip netns exec "$NS_R" conntrack -F expect >/dev/null 2>&1
	if RAW_OUT=$(ip netns exec "$NS_C" "$PY" "$T/rawctl.py" "${x[@]}" "$(s_pub 4)" "$port" "$@" 2>&1); then
		RAW_ALIVE=alive
	else
		RAW_ALIVE="stalled ($(grep -m1 '^FAIL' <<<"$RAW_OUT"))"
	fi
}

# row ID DESC OK NOTE: record; an nf_ftpx row that is not OK fails the case
row() {
	local id=$1 desc=$2 ok=$3 note=$4 v=pass
	[ "$ok" = yes ] || v=fail
	echo "      ($HELPER $id: $v: $note)"
	if [ "$HELPER" = ftpx ]; then
		check "ftpx: $desc" test "$ok" = yes
	else
		echo "NOTE: in-tree $id: $v (data, not a verdict)"
	fi
	tsv_row "$id" "$desc" "$v" "$note"
}

# server_line LOG N0: the first PORT line fakeftpd logged after line N0,
# from its repr (b'PORT ...\r') back to text, quoted
server_line() {
	local l
	l=$(tail -n +$(($2 + 1)) "$1" | grep -a -m1 -i "PORT") || { echo "no PORT"; return; }
	l=${l#b\'}
	l=${l%\'}
	echo "'${l%\\r}'"
}

# ---------------------------------------------------------------- commands
part_b() {
	local log n0 e0 n got desc
	topo_setup b
	router_rules_nft "${HELPERS%% *}" || fail "router rules"
	topo_diagram
	log=$(ftpx_tmpdir)/b.log
	fake_start 21 "$log"
	busywait 60000 test -e "$log.ready" || fail "fakeftpd did not start"
	for h in $HELPERS; do
		use "$h"

		desc="command split across segments: \"PO\" + \"RT 10,0,1,2,4,1\" (b, masquerade)"
		n0=$(wc -l <"$log" 2>/dev/null || echo 0)
		e0=$(created)
		raw 21 "NOOP\r\n" "PO" "RT 10,0,1,2,4,1\r\n"
		n=$(($(created) - e0))
		got=$(server_line "$log" "$n0")
		row w1-split-port "$desc" \
			"$([[ $got == *"PORT 203,0,113,1,"* && $n -ge 1 && $RAW_ALIVE == alive ]] && echo yes)" \
			"server got $got; expectations $n; control connection $RAW_ALIVE"

		desc="two commands in one segment: \"TYPE I\" + \"PORT 10,0,1,2,4,3\", the 2nd handled (b)"
		n0=$(wc -l <"$log")
		e0=$(created)
		raw 21 "NOOP\r\n" "TYPE I\r\nPORT 10,0,1,2,4,3\r\n"
		n=$(($(created) - e0))
		got=$(server_line "$log" "$n0")
		row w2-two-cmds-one-seg "$desc" \
			"$([[ $got == *"PORT 203,0,113,1,"* && $n = 1 && $RAW_ALIVE == alive ]] && echo yes)" \
			"server got $got; expectations $n; control connection $RAW_ALIVE"
	done
	test_done
}

# ---------------------------------------------------------------- replies
part_c() {
	local l1 l2 e0 n txt pasv ok id desc port
	topo_setup c
	router_rules_nft "${HELPERS%% *}" --ports "21 2121" || fail "router rules"
	topo_diagram
	l1=$(ftpx_tmpdir)/c21.log
	l2=$(ftpx_tmpdir)/c2121.log
	local -a common=(--pasv "227 Entering Passive Mode (192,168,1,2,195,80).")
	fake_start 21 "$l1" "${common[@]}" \
		--banner '230-welcome\r\n227 Entering Passive Mode (192,168,1,2,1,1)\r\n230 done\r\n'
	fake_start 2121 "$l2" "${common[@]}" \
		--banner '230-welcome\r\n<SEG>227 Entering Passive Mode (192,168,1,2,1,1)\r\n<SEG>230 done\r\n'
	busywait 60000 test -e "$l1.ready" -a -e "$l2.ready" || fail "fakeftpd did not start"
	for h in $HELPERS; do
		use "$h" --ports "21 2121"
		for port in 21 2121; do
			if [ $port = 21 ]; then
				id=w3-227-in-multiline-one-seg
				desc="\"227 ... (192,168,1,2,1,1)\" as text inside a multi-line 230 reply, one segment (c, DNAT)"
			else
				id=w4-227-in-multiline-own-seg
				desc="\"227 ... (192,168,1,2,1,1)\" as text inside a multi-line 230 reply, each line its own segment (c)"
			fi
			e0=$(created)
			raw $port --extra 1 "PASV\r\n"
			n=$(($(created) - e0))
			txt=$(grep -m1 -o 'REPLY: 227 .*(.*,1,1)' <<<"$RAW_OUT" || echo "(no text 227)")
			pasv=$(grep -m1 -o 'REPLY: 227 .*(.*,195,80)\.$' <<<"$RAW_OUT" ||
				grep -m1 -o 'REPLY: 227 .*(.*)\.$' <<<"$RAW_OUT" || echo "(no PASV reply)")
			ok=''
			[[ $txt == *"(192,168,1,2,1,1)"* && $n = 1 && $RAW_ALIVE == alive &&
				$pasv == *"(198,51,100,1,"* ]] && ok=yes
			row "$id" "$desc" "$ok" \
				"client got ${txt#REPLY: }; expectations $n (1 is the real PASV); PASV reply ${pasv#REPLY: }; control connection $RAW_ALIVE"
		done
	done
	test_done
}

case ${1:-} in
--part-b) part_b ;;
--part-c) part_c ;;
esac

# ---------------------------------------------------------------- driver
require_cmd conntrack nft
if [[ " $HELPERS " == *" ftpx "* ]]; then
	ftpx_load || fail "cannot load nf_ftpx"
fi
settle_on_exit
if [[ " $HELPERS " == *" ftp "* ]]; then
	intree_load fail
fi
# the two parts at the same time: their own namespaces, two guest CPUs
# (their logs beside the case's, where they survive a timeout)
log=$FTPX_OUT/cases/34-intree-weak
mkdir -p "$FTPX_OUT/cases"
WEAK_HELPERS=$HELPERS "$0" --part-b >"$log.b.log" 2>&1 &
pb=$!
WEAK_HELPERS=$HELPERS "$0" --part-c >"$log.c.log" 2>&1 &
pc=$!
rc=0
wait $pb || rc=1
cat "$log.b.log"
wait $pc || rc=1
cat "$log.c.log"
echo "TIME: $SECONDS s"
exit $rc
