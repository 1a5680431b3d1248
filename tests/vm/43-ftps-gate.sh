#!/usr/bin/env bash
# The passive-range gate of an encrypted session, from the outside: who may
# connect to the range, for how long, and how many gates there may be.
#
#   client .2 (A), .3 (B), .4, .5 (C1, C2) of 198.51.100.0/24
#     -- r (DNAT 21, 2121 and the passive range 50000-50099 -> 192.168.1.2;
#           forward: established, related ftpx, new 21/2121; else reset)
#     -- server 192.168.1.2 (vsftpd explicit TLS on 21, plain on 2121)
#
# The router forwards the whole passive range like an admin would for FTPS,
# so a connection that no gate admits reaches the forward chain and is
# refused there (counted by the "ftpx:drop" rule), not by a missing DNAT.
# The range configured for nf_ftpx (100 ports) is larger than gate_max (64).
# Control sessions are held open with ftplib FTP_TLS (AUTH TLS, PROT P) from
# one client address each; test listeners (socat) on range ports 50005 and
# 50009 in the server answer "gate-ok" to whoever gets through.
#   1 A: gates=64 (50000-50063), gate_refused counted, 64 ftpx-gate
#     expectations, mode explicit-tls; .2 reaches 50009; .3 (no session) is
#     refused on 50009 and 50005; .2 is refused on 50064 (past gate_max)
#   2 A2, a second session of the same client to the same server (FileZilla
#     runs two at once): while A lives A's gates serve it; A quits, its gates
#     go with its control connection (polled) and A2 must still reach its
#     range; A2 quits: .2 is refused
#   3 gate_max_total 6: B gets 6 gates (50000-50005): .3 reaches 50005, not
#     50009
#   4 gate_max_total back to 4096, far above the kernel's expectation table
#     (nf_conntrack_expect_max: 112 in a 1 GB guest): C1, C2 from .4, .5
#     until one is refused gates; the table keeps room, and a plain FTP
#     transfer through the same router (PASV, 227 rewritten) gets its data
#     expectation
#   5 everyone quits: no ftpx expectation is left, .3 is refused
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/ftp.sh"

CTL=$FTPX_TOP/userspace/ftpxctl
RANGE=50000-50099
NET=198.51.100
A=$NET.2 B=$NET.3 C1=$NET.4 C2=$NET.5
server_available vsftpd || skip "vsftpd not installed"
require_cmd socat conntrack curl
[ -x "$CTL" ] || skip "userspace/ftpxctl not built"

ftpx_load || fail "cannot load nf_ftpx"
GATE_MAX=$(< /sys/module/nf_ftpx/parameters/gate_max)
TOTAL0=$(< /sys/module/nf_ftpx/parameters/gate_max_total)
topo_setup c
router_rules_nft ftpx --ports "21 2121" --final reject || fail "ruleset"
# the passive range forwarded to the server, as for FTPS without nf_ftpx
on r nft add rule inet ftpx dstnat iifname c0 meta nfproto ipv4 tcp dport "$RANGE" dnat ip to "$S_ADDR4" ||
	fail "range DNAT"
ns_addr "$NS_C" eth0 "$B/24" "$C1/24" "$C2/24"
topo_diagram
echo "client addresses $A (A, A2) $B (B) $C1 (C1) $C2 (C2); the range $RANGE is DNATed too"
on r "$CTL" server set "$S_ADDR4" pasv "$RANGE" || fail "ftpxctl server set"
EXPECT_MAX=$(on r cat /proc/sys/net/netfilter/nf_conntrack_expect_max)
echo "nf_conntrack_expect_max $EXPECT_MAX, gate_max $GATE_MAX, gate_max_total $TOTAL0"
server_start vsftpd --family 4 --tls none --port 2121 --pasv 50080-50089 || fail "vsftpd plain"
server_start vsftpd --family 4 --tls explicit --pasv 50000-50003 || fail "vsftpd"

tmp=$(ftpx_tmpdir)
for p in 50005 50009; do
	ip netns exec "$NS_S" socat "TCP-LISTEN:$p,fork,reuseaddr" SYSTEM:'echo gate-ok' </dev/null >/dev/null 2>&1 &
	cleanup_push "kill $!"
done
_sock_up() { _listening "$NS_S" 50005 && _listening "$NS_S" 50009; }
busywait 10000 _sock_up || fail "test listeners did not start"

# hold SRC NAME: an FTPS control session from SRC, logged in, PROT P, held
# until $tmp/NAME.release exists (bounded), then QUIT; NAME.poke makes it
# send a NOOP first (a command, as a PASV would be, before a data
# connection), answered by NAME.poked
cat >"$tmp/hold.py" <<'EOF'
import ftplib, os, ssl, sys, time
src, host, base = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
f = ftplib.FTP_TLS(context=ctx, timeout=20, source_address=(src, 0))
f.connect(host, 21)
f.login("anonymous", "ftpx@example.org")
f.prot_p()
open(base + ".ready", "w").close()
end = time.monotonic() + 150
while not os.path.exists(base + ".release") and time.monotonic() < end:
    if os.path.exists(base + ".poke"):
        os.unlink(base + ".poke")
        print(f.voidcmd("NOOP"))
        open(base + ".poked", "w").close()
    time.sleep(0.05)  # poll for the release or poke file
f.quit()
print("quit after hold")
EOF
declare -A HOLD_PID=()
hold() {
	local src=$1 name=$2
	ip netns exec "$NS_C" "$FTPX_PYTHON" "$tmp/hold.py" "$src" "$S_PUB4" "$tmp/$name" \
		>"$tmp/$name.log" 2>&1 &
	HOLD_PID[$name]=$!
	busywait 30000 test -e "$tmp/$name.ready" ||
		fail "control session $name did not log in: $(cat "$tmp/$name.log")"
}
poke() {
	touch "$tmp/$1.poke"
	busywait 20000 test -e "$tmp/$1.poked" || fail "control session $1 did not answer a poke"
}
release() {
	local name=$1
	touch "$tmp/$name.release"
	_done() { ! kill -0 "${HOLD_PID[$name]}" 2>/dev/null; }
	busywait 20000 _done || fail "control session $name did not quit"
	wait "${HOLD_PID[$name]}" || fail "control session $name failed: $(cat "$tmp/$name.log")"
}

# probe SRC PORT: connect from SRC to the router's WAN address:PORT; true if
# a test listener answered
probe() {
	local out
	out=$(ip netns exec "$NS_C" timeout 10 socat -T 5 - \
		"TCP:$S_PUB4:$2,bind=$1,connect-timeout=5" </dev/null 2>&1)
	[[ $out == *gate-ok* ]]
}
refused() { # SRC PORT: refused, and by the forward chain's final rule
	local d0 d1
	d0=$(rule_count "$NS_R" ftpx:drop)
	! probe "$1" "$2" || return 1
	d1=$(rule_count "$NS_R" ftpx:drop)
	[ "$d1" -gt "$d0" ]
}
sessions() { on r "$CTL" sessions | grep -v '^mode=data'; }
# gates_of ADDR: the gates= of the live (ESTABLISHED) session from ADDR
gates_of() {
	sessions | awk -v a="src=$1 " 'index($0, a) && / ESTABLISHED /' |
		sed -n 's/.* gates=\([0-9]*\) .*/\1/p'
}
ngate_exp() { on r conntrack -L expect 2>/dev/null | grep -c 'class=1 helper=ftpx'; }
gate_exp_of() { on r conntrack -L expect 2>/dev/null | grep 'class=1 helper=ftpx' | grep -c "^[0-9]* proto=6 src=$1 "; }
ctl_stat() { on r "$CTL" stats | awk -v n="$1" '$1 == n { print $2 }'; }
gates_gone() { [ "$(gate_exp_of "$1")" = 0 ]; }

# ---- 1: session A, gate_max gates, the rest of the range refused -----------
hold "$A" A
sessions
check_eq "A: mode explicit-tls, gates=$GATE_MAX (range of 100 > gate_max)" \
	"$(sessions | grep -c "^mode=explicit-tls .* gates=$GATE_MAX .*src=$A ")" 1
check_eq "A: $GATE_MAX gate expectations, all for A" "$(gate_exp_of "$A")" "$GATE_MAX"
check_eq "stats gate_expects" "$(ctl_stat gate_expects)" "$GATE_MAX"
check_eq "stats gate_refused (range beyond gate_max)" "$(ctl_stat gate_refused)" 1
on r conntrack -L expect 2>/dev/null | head -n 2
check "A (.2) reaches range port 50009 through its gate" probe "$A" 50009
check "B (.3, no control session) is refused on 50009 by the forward policy" refused "$B" 50009
check "B (.3) is refused on 50005 too" refused "$B" 50005
check "A (.2) is refused past its gates (50064: beyond gate_max)" refused "$A" 50064

# ---- 2: A2, a second session of the same client to the same server ---------
hold "$A" A2
echo "      A2 beside A (same client, server and ports):"
sessions | grep " ESTABLISHED src=$A " | cut -c1-120
check "A2 (.2) reaches 50009 while A lives" probe "$A" 50009
t0=$(ftpx_now_ms)
release A
# A's control connection is over: only A2's session is live for .2
_a_closed() { [ "$(sessions | grep -c " ESTABLISHED src=$A ")" = 1 ]; }
busywait 30000 _a_closed
echo "      $(($(ftpx_now_ms) - t0)) ms after A's QUIT: $(gate_exp_of "$A") gate expectations for .2"
# A2 goes on: a command, then a data connection into its range
poke A2
echo "      after a command of A2: $(gate_exp_of "$A") gate expectations for .2"
sessions | grep "src=$A " | cut -c1-120
check "A2 (.2, session still open) reaches 50009 after A quit" probe "$A" 50009
release A2
check "A's and A2's gate expectations are gone with their control connections" busywait 30000 gates_gone "$A"
check "A (.2) is refused on 50009 once its sessions are over" refused "$A" 50009

# ---- 3: gate_max_total ------------------------------------------------------
echo 6 >/sys/module/nf_ftpx/parameters/gate_max_total || fail "gate_max_total not writable"
r0=$(ctl_stat gate_refused)
hold "$B" B
check_eq "B: gates=6 (gate_max_total 6)" "$(gates_of "$B")" 6
check_eq "B: 6 gate expectations for B" "$(gate_exp_of "$B")" 6
check_eq "stats gate_refused +1 (total limit)" "$(ctl_stat gate_refused)" $((r0 + 1))
check "B (.3) reaches 50005 through its own gate" probe "$B" 50005
check "B (.3) is refused on 50009 (no gate left for it)" refused "$B" 50009

# ---- 4: the expectation table keeps room for data expectations --------------
echo "$TOTAL0" >/sys/module/nf_ftpx/parameters/gate_max_total
held=(B)
for c in C1 C2; do
	hold "${!c}" "$c"
	held+=("$c")
	g=$(gates_of "${!c}")
	echo "      $c (${!c}) got gates=$g; $(ngate_exp) gate expectations of $EXPECT_MAX"
	[ "${g:-0}" -lt "$GATE_MAX" ] && break
done
check "gates leave room in the expectation table ($(ngate_exp) of $EXPECT_MAX)" \
	test "$(ngate_exp)" -le $((EXPECT_MAX * 3 / 4))
f0=$(ctl_stat expect_fail)
ftp_xfer curl get -4 --tls none --port 2121 --mode pasv --file 64k.bin
check_xfer --got "$S_PUB4"
check_eq "plain FTP beside the FTPS sessions: no expectation failed" "$(ctl_stat expect_fail)" "$f0"

# ---- 5: everyone quits -------------------------------------------------------
for h in "${held[@]}"; do release "$h"; done
_none() { [ "$(ngate_exp)" = 0 ]; }
check "no gate expectation left after all sessions" busywait 30000 _none
check "B (.3) is refused on 50005 once its session is over" refused "$B" 50005
on r "$CTL" stats | grep -E 'tls|gate|expect'
dmesg | grep -E 'nf_ftpx|expectation table' | tail -n 5
test_done
