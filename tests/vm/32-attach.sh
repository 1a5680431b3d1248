#!/usr/bin/env bash
# The ways a ruleset can attach helper "ftpx", each with real transfers
# (vsftpd, curl) through a router whose forward policy admits data only as
# RELATED to an "ftpx" control connection:
#
#   nft-pre     nft `ct helper` object set at prerouting -150 (before DNAT)
#   ipt-nft     iptables-nft -t raw PREROUTING -j CT --helper ftpx
#   ipt-legacy  iptables-legacy, the same
#   nft-post    nft `ct helper set` at prerouting 0, after DNAT: the NAT
#               core added no seqadj extension when it DNATed (no helper
#               yet), so nf_ftpx must add it itself before the first
#               length-changing rewrite
#
#   c: client 198.51.100.2 -- [r: DNAT 21 -> 192.168.1.2] -- server 192.168.1.2
#      227 (192,168,1,2,...) -> (198,51,100,1,...): one byte longer
#   b: client 10.0.1.2 -- [r: masquerade -> 203.0.113.1] -- server 203.0.113.2
#      PORT 10,0,1,2,... -> 203,0,113,1,...: three bytes longer (nft-post)
#
# Per method, one transfer each way: sha256, the related rule counted the
# data connection, the address the client / the server got; on nft a counter `ct state related
# ct helper "ftpx"` equals one counting every RELATED packet, and one for
# `ct helper "ftp"` stays 0; the data connections carry helper=ftpx.
# A missing seqadj would stall the control connection after the rewrite and
# put "Missing nfct_seqadj_ext_add() setup call" in the kernel log (the
# runner fails the case on it).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/ftp.sh"
FTPX_XFER_TIMEOUT=30

# rules METHOD: replace the routers' ruleset (and empty the legacy
# iptables tables once they are in use)
LEGACY=''
rules() {
	local r t tb
	for r in "${ROUTERS[@]}"; do
		ip netns exec "$r" nft flush ruleset
		for t in iptables-legacy ip6tables-legacy; do
			[ -n "$LEGACY" ] || continue
			for tb in raw nat filter; do ip netns exec "$r" "$t" -w -t $tb -F 2>/dev/null; done
			ip netns exec "$r" "$t" -w -P FORWARD ACCEPT
		done
	done
	case $1 in
	nft-pre) router_rules_nft ftpx --attach pre ;;
	nft-post) router_rules_nft ftpx --attach post ;;
	ipt-nft) router_rules_ipt ftpx --variant nft ;;
	ipt-legacy) LEGACY=1; router_rules_ipt ftpx --variant legacy ;;
	esac || fail "$1 ruleset"
	if [ "$FTPX_RULES" = nft ]; then
		# first in the chain, counting only: every RELATED packet, and
		# those whose master has the in-tree helper's name
		for r in "${ROUTERS[@]}"; do
			ip netns exec "$r" nft insert rule inet ftpx forward \
				ct state related ct helper '"ftp"' counter comment '"ftpx:related-ftp"' &&
			ip netns exec "$r" nft insert rule inet ftpx forward \
				ct state related counter comment '"ftpx:related-any"' ||
				fail "counting rules"
		done
	fi
	echo "#### attach method $1 (placement $TOPO)"
	topo_diagram | tail -n 2
}

# field_len ADDR: length of the address as PORT/227 write it (h1,h2,h3,h4)
field_len() { local a=${1//./,}; echo ${#a}; }

method() {
	local m=$1 f0=$FTPX_FAILED r rel any wrong sent got
	local -A rel0=() any0=() wrong0=()
	rules "$m"
	if [ "$FTPX_RULES" = nft ]; then
		for r in "${ROUTERS[@]}"; do
			rel0[$r]=$(rule_count "$r" ftpx:related)
			any0[$r]=$(rule_count "$r" ftpx:related-any)
			wrong0[$r]=$(rule_count "$r" ftpx:related-ftp)
		done
	fi
	if [ "$TOPO" = c ]; then
		ftp_xfer curl get -4 --mode pasv --file 64k.bin
		check_xfer --got "$S_PUB4"
		sent=$(server_log_tail 40 | _ftp_parse_replies | cut -d' ' -f2)
		got=$(client_got_addr)
		check "$m: the 227 rewrite changed its length ($sent -> $got)" \
			test "$(field_len "$sent")" != "$(field_len "$got")"
		ftp_xfer curl put -6 --mode eprt --file 64k.bin
		check_xfer
	else
		ftp_xfer curl put -4 --mode port --file 64k.bin
		check_xfer
		got=$(server_log_tail 40 | _ftp_parse_cmds | cut -d' ' -f2)
		check_eq "$m: server got" "$got" "$C_PUB4"
		check "$m: the PORT rewrite changed its length ($C_ADDR4 -> $got)" \
			test "$(field_len "$C_ADDR4")" != "$(field_len "$got")"
		ftp_xfer curl get -6 --mode epsv --file 64k.bin
		check_xfer
	fi
	if [ "$FTPX_RULES" = nft ]; then
		for r in "${ROUTERS[@]}"; do
			rel=$(($(rule_count "$r" ftpx:related) - rel0[$r]))
			any=$(($(rule_count "$r" ftpx:related-any) - any0[$r]))
			wrong=$(($(rule_count "$r" ftpx:related-ftp) - wrong0[$r]))
			check "$m: [$(ns_role "$r")] every RELATED packet matched ct helper \"ftpx\" ($rel of $any)" \
				test "$rel" -gt 0 -a "$rel" = "$any"
			check_eq "$m: [$(ns_role "$r")] RELATED packets matching ct helper \"ftp\"" "$wrong" 0
		done
	fi
	# data connections: neither dport 21 in the original direction; the
	# ones of this method are the newest, but all of them must be ftpx
	local ct data
	ct=$(on r conntrack -L -f ipv4 -p tcp 2>/dev/null; on r conntrack -L -f ipv6 -p tcp 2>/dev/null)
	data=$(grep -v ' dport=21 ' <<<"$ct" | grep -c .)
	check "$m: data connections on r carry helper=ftpx ($(grep -v ' dport=21 ' <<<"$ct" | grep -c 'helper=ftpx') of $data)" \
		test "$data" -gt 0 -a "$(grep -v ' dport=21 ' <<<"$ct" | grep -c 'helper=ftpx')" = "$data"
	[ "$FTPX_FAILED" -gt "$f0" ] && [ "$FTPX_DUMPED" = 0 ] && dump_state
	return 0
}

if [ "${1:-}" = --child-b ]; then
	topo_setup b
	router_rules_nft ftpx --attach post || fail "ruleset"
	topo_diagram
	server_start vsftpd || fail "vsftpd did not start"
	method nft-post
	echo "TIME: placement b: ${SECONDS} s"
	test_done
fi

server_available vsftpd || skip "vsftpd not installed"
require_cmd curl conntrack nft iptables-nft iptables-legacy ip6tables-legacy
settle_on_exit
ftpx_load || fail "cannot load nf_ftpx"

# placement b in its own process and namespaces, beside c (two guest CPUs);
# its log beside the case's, where it survives a timeout
mkdir -p "$FTPX_OUT/cases"
blog=$FTPX_OUT/cases/32-attach.b.log
"$0" --child-b >"$blog" 2>&1 &
bpid=$!

topo_setup c
router_rules_nft ftpx || fail "ruleset"
topo_diagram
server_start vsftpd || fail "vsftpd did not start"
for m in nft-pre ipt-nft ipt-legacy nft-post; do
	method $m
	echo "TIME: placement c: ${SECONDS} s: $m"
done
wait $bpid
brc=$?
echo "################ placement b (${FTPX_OUT_HOST:-$FTPX_OUT}/cases/32-attach.b.log)"
cat "$blog"
check "placement b, nft-post: exit $brc" test $brc = 0
echo "TIME: ${SECONDS} s"
test_done
