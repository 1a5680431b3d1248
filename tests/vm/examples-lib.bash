# shellcheck shell=bash disable=SC2034
# (SC2034: EX_* are read by the cases)
# Helpers for the cases that run the rulesets of examples/ (tests/vm/6[1-4]-
# examples-*.sh), sourced after tests/lib/ftp.sh. Not a case itself (no .sh
# suffix: the suite runs those).
#
#   ex_begin                skip unless the tools are there; load nf_ftpx
#   ex_load NS EXAMPLE VARIANT NAME=VALUE...
#                           render examples/EXAMPLE.* (examples/render.sh
#                           fills in the placeholders) and load it the way a
#                           user would: nft -f (nft), or iptables-nft-restore /
#                           iptables-legacy-restore with the .iptables and
#                           .ip6tables files (ipt-nft, ipt-legacy)
#   ex_reset NS VARIANT     back to no rules (none keeps the helper referenced)
#   ex_xfer NS VARIANT CHAIN [check_xfer options] -- ftp_xfer arguments
#                           one transfer and check_xfer; also checks that the
#                           data connection passed the example's own RELATED
#                           ct helper "ftpx" rule in CHAIN (its counter moved)
#
# EX_VARIANTS: the variants each case runs, "nft ipt-nft ipt-legacy" unless
# FTPX_EXAMPLE_VARIANTS says otherwise.

EX_DIR=$FTPX_TOP/examples
EX_CTL=$FTPX_TOP/userspace/ftpxctl
EX_PASV=50000-50009
read -ra EX_VARIANTS <<< "${FTPX_EXAMPLE_VARIANTS:-nft ipt-nft ipt-legacy}"
EX_NAME=$(basename "$0" .sh)
EX_NAME=${EX_NAME#*-examples-}
set -o pipefail

# ex_mark WHAT: elapsed time of the case so far, for the log
ex_mark() {
	echo "(${SECONDS} s: $*)"
}

ex_begin() {
	require_cmd nft iptables-nft-restore iptables-legacy-restore ip6tables-legacy-restore curl
	server_available vsftpd || skip "vsftpd not installed"
	[ -x "$EX_CTL" ] || skip "userspace/ftpxctl not built"
	ftpx_load || fail "cannot load nf_ftpx"
	ex_mark "nf_ftpx loaded"
}

ex_load() {
	local ns=$1 ex=$EX_DIR/$2 v=$3 f t
	shift 3
	ex_mark "loading ${ex##*/} ($v)"
	if [ "$v" = nft ]; then
		ftpx_log 1 "+ [$(ns_role "$ns")] examples/render.sh ${ex##*/}.nft $* | nft -f -"
		"$EX_DIR/render.sh" "$ex.nft" "$@" | ip netns exec "$ns" nft -f -
		return
	fi
	for f in iptables ip6tables; do
		[ -f "$ex.$f" ] || continue
		t=$f-${v#ipt-}-restore
		ftpx_log 1 "+ [$(ns_role "$ns")] examples/render.sh ${ex##*/}.$f $* | $t"
		"$EX_DIR/render.sh" "$ex.$f" "$@" | ip netns exec "$ns" "$t" -w || return 1
	done
}

ex_reset() {
	local f
	ip netns exec "$1" nft flush ruleset
	[ "$2" = ipt-legacy ] || return 0
	for f in iptables ip6tables; do
		printf '*raw\nCOMMIT\n*nat\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' |
			ip netns exec "$1" "$f-legacy-restore" -w
	done
}

# _ex_related NS VARIANT CHAIN: packets counted by the RELATED ct helper
# "ftpx" rule(s) in CHAIN, both families
_ex_related() {
	local ns=$1 v=$2 chain=$3 f
	if [ "$v" = nft ]; then
		ip netns exec "$ns" nft list ruleset |
			awk '/ct state related ct helper "ftpx"/ {
				for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1) }
				END { print s + 0 }'
		return
	fi
	for f in iptables ip6tables; do
		ip netns exec "$ns" "$f-${v#ipt-}" -w -vxnL "$chain"
	done | awk '/helper match "ftpx"/ { s += $1 } END { print s + 0 }'
}

ex_xfer() {
	local ns=$1 v=$2 chain=$3 before after t0=$SECONDS
	shift 3
	local -a chk=()
	while [ "$1" != -- ]; do chk+=("$1"); shift; done
	shift
	before=$(_ex_related "$ns" "$v" "$chain")
	ftp_xfer "$@"
	after=$(_ex_related "$ns" "$v" "$chain")
	XFER_DESC="[$EX_NAME $v] $XFER_DESC"
	ex_mark "$XFER_DESC took $((SECONDS - t0)) s"
	check_xfer "${chk[@]}" &&
		check "$XFER_DESC: data via the example's RELATED ftpx rule (+$((after - before)))" \
			test "$after" -gt "$before"
}
