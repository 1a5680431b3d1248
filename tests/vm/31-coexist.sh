#!/usr/bin/env bash
# nf_ftpx next to the in-tree helper: nf_conntrack_ftp + nf_nat_ftp and
# nf_ftpx loaded together, one router attaching "ftp" to port 21 and "ftpx"
# to port 2121, two vsftpd behind DNAT, transfers on both at the same time.
#
#   client 198.51.100.2 / 2001:db8:1::2
#      |
#   r: DNAT tcp 21, 2121 -> 192.168.1.2 / fd00:2::2
#      ct helper "ftp"  on dport 21     ct helper "ftpx" on dport 2121
#      forward: related + ct helper "ftp"  -> counter ftpx:related-ftp
#               related + ct helper "ftpx" -> counter ftpx:related-ftpx
#      |
#   server 192.168.1.2: vsftpd :21 and vsftpd :2121
#
# Checks: each side completes its transfers (sha256, the address the client
# got / the server got after NAT) while the other side's run overlaps it; the
# expectations announced on ctnetlink (conntrack -E expect, no race) name
# their own helper; each helper's related rule counted exactly its own data
# connections; the control connections carry helper=ftp (21) and
# helper=ftpx (2121), the data connections of the ftpx side helper=ftpx.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/ftp.sh"
FTPX_XFER_TIMEOUT=30

server_available vsftpd || skip "vsftpd not installed"
require_cmd curl conntrack nft stdbuf
ftpx_load || fail "cannot load nf_ftpx"
settle_on_exit
intree_load skip
check "nf_conntrack_ftp, nf_nat_ftp and nf_ftpx are loaded together" \
	test -d /sys/module/nf_ftpx -a -d /sys/module/nf_conntrack_ftp -a -d /sys/module/nf_nat_ftp

topo_setup c
rs="table inet ftpx {
	ct helper ftp-std {
		type \"ftp\" protocol tcp
	}
	ct helper ftpx-std {
		type \"ftpx\" protocol tcp
	}
	chain helper {
		type filter hook prerouting priority -150; policy accept;
		tcp dport 21 ct helper set \"ftp-std\"
		tcp dport 2121 ct helper set \"ftpx-std\"
	}
	chain dstnat {
		type nat hook prerouting priority dstnat; policy accept;
		iifname \"c0\" meta nfproto ipv4 tcp dport { 21, 2121 } dnat ip to $S_ADDR4
		iifname \"c0\" meta nfproto ipv6 tcp dport { 21, 2121 } dnat ip6 to $S_ADDR6
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established counter accept comment \"ftpx:established\"
		ct state related counter comment \"ftpx:related\"
		ct state related ct helper \"ftp\" counter accept comment \"ftpx:related-ftp\"
		ct state related ct helper \"ftpx\" counter accept comment \"ftpx:related-ftpx\"
		meta l4proto { icmp, ipv6-icmp } accept
		iifname \"c0\" ct state new tcp dport { 21, 2121 } counter accept comment \"ftpx:ctrl\"
		counter drop comment \"ftpx:drop\"
	}
}"
on r nft -f - <<<"$rs" || fail "ruleset with both helpers"
FTPX_RULES=nft FTPX_HELPER='ftp (21) + ftpx (2121)' FTPX_HELPER_PORTS="21 2121"
topo_diagram

server_start vsftpd --port 21 || fail "vsftpd on 21"
LOG21=$SERVER_LOG
server_start vsftpd --port 2121 || fail "vsftpd on 2121"
LOG2121=$SERVER_LOG

# expectation events, subscribed before the first transfer
EV=$(ftpx_tmpdir)/expect-events
ip netns exec "$NS_R" stdbuf -oL conntrack -E expect >"$EV" 2>&1 &
EVPID=$!
cleanup_push "kill $EVPID 2>/dev/null"
_subscribed() { # a NETLINK_NETFILTER (12) socket with multicast groups
	ip netns exec "$NS_R" awk '$2 == 12 && $4 != "00000000" {f = 1} END {exit !f}' /proc/net/netlink
}
busywait 30000 _subscribed || { cat "$EV"; fail "conntrack -E expect did not subscribe"; }

rel0_ftp=$(rule_count "$NS_R" ftpx:related-ftp)
rel0_ftpx=$(rule_count "$NS_R" ftpx:related-ftpx)

# side PORT: four transfers in a row, every mode both families, in
# the background; results in files (a subshell's variables are lost)
side() {
	local port=$1 log=$2 out=$3 t0 n=0
	exec >"$out" 2>&1
	SERVER_PORT=$port SERVER_LOG=$log
	# its own upload names and client files
	XFER_N=$((port * 10))
	t0=$(ftpx_now_ms)
	echo "START $t0"
	ftp_xfer curl get -4 --mode pasv --file 64k.bin --port "$port"
	check_xfer --got "$S_PUB4" && n=$((n + 1))
	ftp_xfer curl put -4 --mode port --file 64k.bin --port "$port"
	check_xfer && n=$((n + 1))
	check_eq "PORT $port: server got" "$(server_log_tail 40 | _ftp_parse_cmds | cut -d' ' -f2)" "$C_PUB4"
	ftp_xfer curl get -6 --mode epsv --file 64k.bin --port "$port"
	check_xfer && n=$((n + 1))
	ftp_xfer curl put -6 --mode eprt --file 64k.bin --port "$port"
	check_xfer && n=$((n + 1))
	echo "END $(ftpx_now_ms)"
	echo "DONE $n"
	[ "$FTPX_FAILED" = 0 ]
}

# (the sides' logs beside the case's, where they survive a timeout)
mkdir -p "$FTPX_OUT/cases"
tmp=$FTPX_OUT/cases/31-coexist.
side 21 "$LOG21" "${tmp}side21.log" &
p21=$!
side 2121 "$LOG2121" "${tmp}side2121.log" &
p2121=$!
wait $p21
rc21=$?
wait $p2121
rc2121=$?
for p in 21 2121; do
	echo "---- transfers on port $p"
	grep -E '^(PASS|FAIL|START|END|DONE)' "${tmp}side$p.log"
done
grep -q '^FAIL' "${tmp}side21.log" "${tmp}side2121.log" && { cat "${tmp}side21.log" "${tmp}side2121.log" | tail -n 80; }
check "port 21 (helper ftp): all transfers" test $rc21 = 0
check "port 2121 (helper ftpx): all transfers" test $rc2121 = 0

s21=$(sed -n 's/^START //p' "${tmp}side21.log") e21=$(sed -n 's/^END //p' "${tmp}side21.log")
s2121=$(sed -n 's/^START //p' "${tmp}side2121.log") e2121=$(sed -n 's/^END //p' "${tmp}side2121.log")
overlap() { [ -n "$s21$e21$s2121$e2121" ] && [ "$s21" -lt "$e2121" ] && [ "$s2121" -lt "$e21" ]; }
check "the two sides ran at the same time (21: ${s21:-?}-${e21:-?}, 2121: ${s2121:-?}-${e2121:-?} ms)" overlap

d_ftp=$(($(rule_count "$NS_R" ftpx:related-ftp) - rel0_ftp))
d_ftpx=$(($(rule_count "$NS_R" ftpx:related-ftpx) - rel0_ftpx))
# one RELATED packet (the SYN) per data connection, unless retransmitted
check "related via helper \"ftp\" counted the 4 data connections of port 21 ($d_ftp)" \
	test "$d_ftp" -ge 4 -a "$d_ftp" -le 6
check "related via helper \"ftpx\" counted the 4 data connections of port 2121 ($d_ftpx)" \
	test "$d_ftpx" -ge 4 -a "$d_ftpx" -le 6

kill "$EVPID" 2>/dev/null
wait "$EVPID" 2>/dev/null
echo "---- expectation events (conntrack -E expect on r)"
cat "$EV"
# "[NEW] 300 proto=6 src=.. dst=.. .. master-src=.. master-dst=.. sport=N
# dport=21 class=0 helper=ftp"
n_new=$(grep -c '\[NEW\]' "$EV")
n_ftp=$(grep '\[NEW\]' "$EV" | grep -c ' dport=21 class=0 helper=ftp$')
n_ftpx=$(grep '\[NEW\]' "$EV" | grep -c ' dport=2121 class=0 helper=ftpx$')
check_eq "expectations of the port 21 sessions, created by helper \"ftp\"" "$n_ftp" 4
check_eq "expectations of the port 2121 sessions, created by helper \"ftpx\"" "$n_ftpx" 4
check_eq "expectations in all" "$n_new" 8

echo "---- conntrack -L on r"
ct=$(on r conntrack -L -f ipv4 -p tcp 2>/dev/null; on r conntrack -L -f ipv6 -p tcp 2>/dev/null)
echo "$ct"
# the original direction's dport is the first one on the line
ctcount() { # ctcount DPORT-REGEX HELPER-REGEX: lines whose first dport and helper= match
	awk -v d="^($1)\$" -v h="^($2)\$" '{
		dp = ""; hp = "";
		for (i = 1; i <= NF; i++) {
			if (dp == "" && $i ~ /^dport=/) dp = substr($i, 7);
			if ($i ~ /^helper=/) hp = substr($i, 8);
		}
		if (dp ~ d && hp ~ h) n++;
	} END { print n + 0 }' <<<"$ct"
}
check_eq "control connections to 21 with helper=ftp" "$(ctcount 21 ftp)" 4
check_eq "control connections to 2121 with helper=ftpx" "$(ctcount 2121 ftpx)" 4
check_eq "control connections with the other helper" "$(($(ctcount 21 'ftpx|') + $(ctcount 2121 'ftp|')))" 0
# data connections of the ftpx side are assigned helper "ftpx" by its
# expectations; the in-tree helper assigns none to its data connections
check_eq "data connections with helper=ftpx (the port 2121 sessions')" \
	"$(($(ctcount '[0-9]+' ftpx) - $(ctcount 2121 ftpx)))" 4
check_eq "data connections without a helper (the port 21 sessions')" "$(ctcount '[0-9]+' '')" 4
echo "TIME: ${SECONDS} s"
test_done
