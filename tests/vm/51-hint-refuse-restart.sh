#!/usr/bin/env bash
# ftpxd refuses bad hints with the right reason, and survives kill -9.
#
#   client 198.51.100.2 -- c0 [r: DNAT 21 -> server; ftpxd] s0 -- server 192.168.1.2
#
# With a live explicit-TLS session (held open by hold-session.py) as the
# control connection the hints name, each of these is refused and counted
# under its reason: a bad MAC, a replayed datagram, a stale timestamp, an
# unmapped listener, a control connection that does not exist, one without
# helper "ftpx" (the router's own connection to the server), one the helper
# reads in cleartext, a port outside the allowance, and a hint from a
# non-root local peer. Then ftpxd is killed with SIGKILL: the held session
# asks for a transfer while it is down (the agent retries with backoff),
# ftpxd is started again, and that transfer and a new session's both work.
. "$(dirname "$0")/../lib/runner.sh"
. "$(dirname "$0")/../lib/ftp.sh"
. "$(dirname "$0")/hint-lib.bash"

hint_require
command -v setpriv >/dev/null || skip "setpriv not installed"
ftpx_load || fail "cannot load nf_ftpx"
topo_setup c
router_rules_nft ftpx --ports 21 || fail "ruleset"
hint_router_input
topo_diagram
hint_start_ftpxd || fail "ftpxd did not start"
hint_start_agent || fail "ftpx-agent did not start"
server_start vsftpd --family 4 --tls explicit || fail "vsftpd"

H=$(ftpx_tmpdir)/held
cport=$(hold_start "$H" c "$S_PUB4" 21 explicit) || fail "held session"
echo "held session: $C_ADDR4:$cport -> $S_PUB4:21 (server sees $C_PUB4:$cport -> $S_ADDR4:21)"
R=$(hint_r_addr)
BAD=$HINT_DIR/bad.key
echo "not-the-key-$RANDOM-0123456789" >"$BAD"
ctl_s() { ip netns exec "$NS_S" "$HINT_US/ftpxctl" "$@"; }
tuple=(client "$C_PUB4" cport "$cport" server "$S_ADDR4" sport 21)

# expect_refusal REASON DESC CMD...: CMD is refused (exit 1) or unanswered
# (3), and ftpxd counted one more refusal of REASON
expect_refusal() {
	local reason=$1 desc=$2 before after out rc
	shift 2
	before=$(hint_stat "refused:$reason")
	out=$("$@" 2>&1)
	rc=$?
	after=$(hint_stat "refused:$reason")
	echo "  $desc: exit $rc: $out"
	check "refused ($reason): $desc" test "$rc" -ne 0 -a "$after" -eq $((before + 1))
}

expect_refusal bad-mac "signed with another key" \
	ctl_s hint --udp "$R" --key-file "$BAD" --timeout 500 "${tuple[@]}" port 40000
out=$(ctl_s hint --udp "$R" --key-file "$HINT_KEY" --save "$HINT_DIR/h.bin" "${tuple[@]}" port 40001)
check "a good UDP hint is accepted ($out)" test "${out%%:*}" = accepted
expect_refusal replay "the same datagram again" \
	ctl_s hint --udp "$R" --send "$HINT_DIR/h.bin" --timeout 500
expect_refusal stale "timestamp 2 minutes old" \
	ctl_s hint --udp "$R" --key-file "$HINT_KEY" --ts-offset -120 --timeout 500 \
	"${tuple[@]}" port 40002
expect_refusal unmapped "the agent found 2 sessions" \
	hint_ctl hint --socket "$HINT_SOCK" --unmapped 2 server "$S_ADDR4" port 40003
expect_refusal no-conntrack "no such control connection" \
	hint_ctl hint --socket "$HINT_SOCK" client "$C_PUB4" cport 1 server "$S_ADDR4" \
	sport 21 port 40004

# the router's own connection to the server: tracked, no helper
P=$(ftpx_tmpdir)/plain-r
rport=$(hold_start "$P" r "$S_ADDR4" 21 plain) || fail "router connection"
expect_refusal not-ftpx "control connection without helper ftpx" \
	hint_ctl hint --socket "$HINT_SOCK" client "$R" cport "$rport" server "$S_ADDR4" \
	sport 21 port 40005
# a client that never sent AUTH TLS: the helper reads that session itself
P2=$(ftpx_tmpdir)/plain-c
pport=$(hold_start "$P2" c "$S_PUB4" 21 plain) || fail "plain session"
expect_refusal not-encrypted "cleartext session" \
	hint_ctl hint --socket "$HINT_SOCK" client "$C_PUB4" cport "$pport" server "$S_ADDR4" \
	sport 21 port 40006
hold_go "$P" 1 quit
hold_go "$P2" 1 quit
expect_refusal port "port 1000, allowance 1024-65535" \
	hint_ctl hint --socket "$HINT_SOCK" "${tuple[@]}" port 1000
expect_refusal not-root "ftpxctl as uid 65534" \
	ip netns exec "$NS_R" setpriv --reuid 65534 --regid 65534 --clear-groups \
	"$HINT_US/ftpxctl" hint --socket "$HINT_SOCK" "${tuple[@]}" port 40007

hold_go "$H" 1 64k.bin
res=$(hold_result "$H" 1)
check "held session transfer 1 ($res)" test "$res" = "ok 65536"

# ---- kill -9 in the middle of a session
kill -9 "$HINT_DPID"
wait "$HINT_DPID" 2>/dev/null
_hint_down() { ! _hint_up; }
check "ftpxd is gone" _hint_down
echo "expectations the kernel keeps without ftpxd:"
on r "$HINT_US/ftpxctl" expect
unreach0=$(grep -c "unreachable" "$HINT_ALOG")
hold_go "$H" 2 64k.bin
_agent_retries() { [ "$(grep -c "unreachable" "$HINT_ALOG")" -gt "$unreach0" ]; }
check "agent notices ftpxd is unreachable and retries" busywait 15000 _agent_retries
hint_start_ftpxd || fail "ftpxd did not restart"
res=$(hold_result "$H" 2)
check "held session transfer 2, asked for while ftpxd was down ($res)" test "$res" = "ok 65536"
grep -E "answers again|accepted in" "$HINT_ALOG" | tail -n 2
ftp_xfer ftplib get -4 --mode epsv --tls explicit --file 64k.bin
check_xfer
hold_go "$H" 3 quit

on r "$HINT_US/ftpxctl" hints --socket "$HINT_SOCK" | sed -n '/^received/,/^resyncs/p' | grep -v ' 0$'
echo "elapsed: $SECONDS s"
test_done
