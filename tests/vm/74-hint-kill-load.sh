#!/usr/bin/env bash
# ftpx-case-timeout: 600
# ftpxd killed (SIGKILL) and restarted twice while FTPS sessions keep asking
# for data connections through hints.
#
#   client 198.51.100.2 -- c0 [r: DNAT 21; ftpxd udp 192.168.1.1:4021] s0
#     -- server 192.168.1.2 (vsftpd explicit TLS on 21, no passive range on
#        the router, 227 announces 198.51.100.1; ftpx-agent)
#
# tests/lib/tools/ftpstress.py runs FTPX_HINTLOAD_SESSIONS (CI 20) FTPS
# sessions (PASV, RETR, checksum), started over FTPX_HINTLOAD_RAMP seconds
# (CI 20). An FTPS data connection gets through only with the exact
# expectation ftpxd makes from the agent's hint (the router drops
# unsolicited SYNs to itself). While
# they run, ftpxd is killed with SIGKILL after the first accepted hint;
# once the agent has noticed (it logs "unreachable" and retries with
# backoff) ftpxd is started again; then a second time after half of the
# hints. Must hold:
#   - hints came due while ftpxd was down (the agent logged it);
#   - every session transfers the right bytes (none lost its hint);
#   - the agent gave up on no hint;
#   - after the load, no hint expectation is left once the sessions ended.
# The hint expectations in the kernel are counted before and right after
# each kill (the kernel holds them, not ftpxd).
. "$(dirname "$0")/../lib/runner.sh"
. "$(dirname "$0")/../lib/ftp.sh"
. "$(dirname "$0")/hint-lib.bash"

hint_require
require_cmd conntrack
N=${FTPX_HINTLOAD_SESSIONS:-20}
RAMP=${FTPX_HINTLOAD_RAMP:-20}
PY=$FTPX_PYTHON
T=$FTPX_TOP/tests/lib/tools
ftpx_load || fail "cannot load nf_ftpx"
topo_setup c
router_rules_nft ftpx --ports 21 || fail "ruleset"
hint_router_input
topo_diagram
hint_start_ftpxd || fail "ftpxd did not start"
hint_start_agent || fail "ftpx-agent did not start"
big=(--conf max_clients=0 --conf max_per_ip=0)
server_start vsftpd --family 4 --tls explicit --masq "$S_PUB4" --reuse no "${big[@]}" ||
	fail "vsftpd explicit TLS"

hint_expects() { on r conntrack -L expect 2>/dev/null | grep -c 'class=2 helper=ftpx'; }
W=$(ftpx_tmpdir)/load
mkdir -p "$W"
touch "$W/release"
ip netns exec "$NS_C" "$PY" "$T/ftpstress.py" --host "$S_PUB4" --tls-port 21 \
	--root "$FTP_ROOT" --dir "$W" --n "$N" --ramp "$RAMP" --timeout 400 --seed "$$" \
	--mix ftps-pasv=1 >"$W/out" 2>&1 &
spid=$!
cleanup_push "kill $spid"

# kill_restart N HINTS: SIGKILL ftpxd once HINTS hints were accepted in
# all, restart it once the agent has noticed (or after 20 s when no hint
# came due meanwhile)
kill_restart() {
	local unreach0 before after want=$2
	_flowing() { [ "$(grep -c 'accepted in' "$HINT_ALOG")" -ge "$want" ]; }
	busywait 120000 _flowing || { echo "kill $1: not $2 hints accepted in 120 s"; return 1; }
	unreach0=$(grep -c 'unreachable' "$HINT_ALOG")
	before=$(hint_expects)
	kill -9 "$HINT_DPID"
	wait "$HINT_DPID" 2>/dev/null
	after=$(hint_expects)
	# (sessions keep consuming them meanwhile: a count, not a check)
	echo "kill $1: hint expectations in the kernel: $before before the kill, $after right after"
	_noticed() { [ "$(grep -c 'unreachable' "$HINT_ALOG")" -gt "$unreach0" ]; }
	if busywait 20000 _noticed; then
		echo "kill $1: the agent noticed and retries"
	else
		echo "kill $1: no hint came due while ftpxd was down"
	fi
	hint_start_ftpxd || fail "ftpxd did not restart"
}
kill_restart 1 1
kill_restart 2 $((N / 2))
wait "$spid"
rc=$?
cat "$W/out"
check_eq "every session transferred the right bytes (ftpstress exit)" "$rc" 0
got=$("$PY" -c "import json,sys; s=json.load(open(sys.argv[1]))['stats'].get('ftps-pasv',{}); print(s.get('ok',0) == s.get('sessions',0))" "$W/report.json")
check_eq "every ftps-pasv session succeeded (report)" "$got" True
check "hints came due while ftpxd was down (the agent logged it unreachable)" \
	test "$(grep -c 'unreachable' "$HINT_ALOG")" -ge 1
check_eq "the agent gave up on no hint" "$(grep -c 'giving up' "$HINT_ALOG")" 0
echo "agent: $(grep -c 'accepted in' "$HINT_ALOG") hints accepted, $(grep -c 'unreachable' "$HINT_ALOG") times unreachable"
_no_hint_exp() { [ "$(hint_expects)" -eq 0 ]; }
busywait 30000 _no_hint_exp
check_eq "no hint expectation left once the sessions ended" "$(hint_expects)" 0
mkdir -p "$FTPX_OUT/stress"
{
	echo "kernel $(uname -r): $N sessions over $RAMP s, ftpxd killed twice"
	grep -E '^ftpstress: ftps' "$W/out"
	hint_latency_report | tail -n 1
} | tee "$FTPX_OUT/stress/74-hint-kill-load.txt"
test_done
