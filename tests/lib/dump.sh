# shellcheck shell=bash disable=SC2034
# (SC2034: variables set here are the API read by the test cases)
# State dumps and PASS/FAIL helpers for the nf_ftpx namespace tests.
#
#   check MSG CMD...       run CMD; print PASS/FAIL MSG; a failure is recorded
#   check_eq MSG GOT WANT  compare strings
#   fail MSG               FAIL line, dump_state, exit 1
#   skip MSG               SKIP line, exit 77
#   test_done              dump_state once if any check failed; exit 0 or 1
#   dump_state             rules, conntrack, expectations, sockets, logs of
#                          every namespace of the test

[ -n "${_FTPX_DUMP_SH:-}" ] && return 0
_FTPX_DUMP_SH=1

. "$(dirname "${BASH_SOURCE[0]}")/net.sh"

FTPX_FAILED=0
FTPX_CHECKS=0
FTPX_DUMPED=0

check() {
	local msg=$1
	shift
	FTPX_CHECKS=$((FTPX_CHECKS + 1))
	if "$@"; then
		echo "PASS: $msg"
		return 0
	fi
	echo "FAIL: $msg"
	FTPX_FAILED=$((FTPX_FAILED + 1))
	return 1
}

check_eq() {
	local msg=$1 got=$2 want=$3
	FTPX_CHECKS=$((FTPX_CHECKS + 1))
	if [ "$got" = "$want" ]; then
		echo "PASS: $msg ($got)"
		return 0
	fi
	echo "FAIL: $msg: got '$got', want '$want'"
	FTPX_FAILED=$((FTPX_FAILED + 1))
	return 1
}

fail() {
	echo "FAIL: $*"
	FTPX_FAILED=$((FTPX_FAILED + 1))
	dump_state
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

# require_cmd CMD...: skip the case unless every command exists
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c not installed"
	done
}

test_done() {
	if [ "$FTPX_FAILED" -gt 0 ]; then
		[ "$FTPX_DUMPED" = 0 ] && dump_state
		echo "FAIL: $FTPX_FAILED of $FTPX_CHECKS checks failed"
		exit 1
	fi
	echo "OK: $FTPX_CHECKS checks passed"
	exit 0
}

_dump_cmd() {
	local ns=$1
	shift
	echo "## [$(ns_role "$ns")] $*"
	ip netns exec "$ns" "$@" 2>&1 | sed 's/^/   /'
}

_dump_ns() {
	local ns=$1 v t out
	echo "=================== $ns"
	_dump_cmd "$ns" ip -br addr
	_dump_cmd "$ns" ip route
	_dump_cmd "$ns" ip -6 route
	ip netns exec "$ns" nft list tables 2>/dev/null | grep -q . &&
		_dump_cmd "$ns" nft -a list ruleset
	# only tables that hold something (iptables-nft's live in nft too)
	for v in legacy nft; do
		for t in iptables ip6tables; do
			command -v "$t-$v-save" >/dev/null || continue
			out=$(ip netns exec "$ns" "$t-$v-save" -c 2>/dev/null | grep -E '^-A|^:[A-Z]+ DROP')
			[ -n "$out" ] && _dump_cmd "$ns" "$t-$v-save" -c
		done
	done
	if command -v conntrack >/dev/null; then
		_dump_cmd "$ns" conntrack -L -f ipv4
		_dump_cmd "$ns" conntrack -L -f ipv6
		_dump_cmd "$ns" conntrack -L expect -f ipv4
		_dump_cmd "$ns" conntrack -L expect -f ipv6
		_dump_cmd "$ns" conntrack -S
	fi
	_dump_cmd "$ns" ss -tanp
}

# dump_state: everything a reader needs to see why a case failed
dump_state() {
	local ns
	FTPX_DUMPED=1
	echo "#################### dump_state (placement ${TOPO:-?}, rules ${FTPX_RULES:-none}, helper ${FTPX_HELPER:-none})"
	for ns in "${FTPX_NS_LIST[@]}"; do
		_dump_ns "$ns"
	done
	echo "===================  logs"
	declare -F server_log_tail >/dev/null && server_log_tail 30
	declare -F client_log_tail >/dev/null && client_log_tail 40
	echo "--- kernel log (last 20 lines)"
	dmesg 2>/dev/null | tail -n 20
	echo "#################### end of dump_state"
}
