#!/usr/bin/env bash
# ftpx-case-timeout: 300
# Plain FTP across a router failover: two routers with conntrackd (Debian's
# package, FTFW over UDP on a sync link, expectation sync for ftpx), r1
# active. A session logs in and transfers through r1, sends PASV (r1's
# helper rewrites the reply and expects the data connection), then r1 dies
# and r2 takes over the virtual addresses and commits what conntrackd sent
# it. After the failover the session must
#   t2  open the data connection of the PASV sent before the failover: the
#       expectation conntrackd brought over, NATed by the ruleset's
#       related-DNAT rule (conntrackd commits expectations without NAT)
#   t3  RETR over a new PASV: r2's helper adopts the committed control
#       connection and expects the data connection itself
#   t4  STOR over EPSV
# with checksums on both ends. A second session, whose 227 reply r1 had to
# shorten (server 192.168.10.22: "192,168,10,22" -> "198,51,100,1"), shows
# the limit: the sequence adjustment is not synced, so after the failover
# its control connection is out of step and breaks.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/ftp.sh"
. "$here/../lib/ha.sh"

ha_require
server_available vsftpd || skip "vsftpd not available"
ftpx_load || fail "cannot load nf_ftpx"
ha_setup
ha_rules || fail "ruleset"
ha_diagram
ha_conntrackd_start || fail "conntrackd did not start"
server_start vsftpd --family 4 || fail "vsftpd"
head -c 200000 /dev/urandom >"$HA_DIR/up.bin"

# sess NAME PORT TLS PLAN: an ha-session.py in [c]
sess() {
	local d=$HA_DIR/$1
	mkdir -p "$d"
	[ "$4" = full ] && cp "$HA_DIR/up.bin" "$d/"
	ftpx_log 1 "+ [c] ha-session.py $HA_VIP_C $2 $d $3 $4"
	ip netns exec "$NS_C" "$FTPX_PYTHON" "$here/ha-session.py" \
		"$HA_VIP_C" "$2" "$d" "$3" "$4" >"$d/log" 2>&1 </dev/null &
	cleanup_push "kill $!"
}
res() { awk -v n="$2" '$1 == n { $1 = ""; sub(/^ /, ""); print; exit }' "$HA_DIR/$1/res" 2>/dev/null; }
sha() { sha256sum <"$1" | awk '{ print $1 }'; }

sess a 21 none full
sess b 2121 none short
for s in a b; do
	busywait 40000 test -e "$HA_DIR/$s/ready" ||
		{ cat "$HA_DIR/$s/log"; fail "session $s did not reach the failover point"; }
done
check_eq "a t1 (r1) RETR 64k.bin" "$(res a t1)" "ok $(sha "$FTP_ROOT/64k.bin") 65536"
check_eq "b t1 (r1) RETR 64k.bin" "$(res b t1)" "ok $(sha "$FTP_ROOT/64k.bin") 65536"
check "b: r1 shortened the 227 reply (server sent .22)" \
	grep -q '^< 227 Entering Passive Mode (198,51,100,1,' "$HA_DIR/b/log"
read -r _ pport <"$HA_DIR/a/pasv"
echo "session a: PASV before the failover announced port $pport"
check "r1 expects the data connection of a's PASV" \
	busywait 5000 bash -c "ip netns exec $NS_R1 conntrack -L expect 2>/dev/null | grep -q 'dport=$pport '"

# what r2's conntrackd received from r1 (external cache)
t0=$(ftpx_now_ms)
check "r2's conntrackd holds a's control connection" busywait 10000 ha_ext_has r2 ct "sport=$(cat "$HA_DIR/a/cport") "
check "r2's conntrackd holds a's expectation" busywait 10000 ha_ext_has r2 expect "dport=$pport "
echo "sync: external cache of r2 complete $(($(ftpx_now_ms) - t0)) ms after the PASV reply was seen"
check "r2's kernel has no conntrack of a yet" \
	bash -c "! ip netns exec $NS_R2 conntrack -L 2>/dev/null | grep -q 'sport=$(cat "$HA_DIR/a/cport") '"

ha_failover || fail "failover"
ha_diagram | tail -n 1
echo "failover: VIPs moved, commit of conntracks and expectations took $HA_FAILOVER_MS ms"
ctl=$(ip netns exec "$NS_R2" conntrack -L -p tcp --sport "$(cat "$HA_DIR/a/cport")" 2>/dev/null)
echo "r2: $ctl"
check "r2: a's control connection committed, helper ftpx" grep -q 'helper=ftpx' <<<"$ctl"
check "r2: a's control connection keeps its DNAT (reply from $HA_SRV)" grep -q "src=$HA_SRV dst=198.51.100.2" <<<"$ctl"
exp=$(ip netns exec "$NS_R2" conntrack -L expect 2>/dev/null | grep "dport=$pport ")
echo "r2 expect: $exp"
check "r2: a's expectation committed" test -n "$exp"

nat0=$(ha_count r2 ftpx:ha-related-nat)
rel0=$(ha_count r2 ftpx:related)
touch "$HA_DIR/a/go" "$HA_DIR/b/go"
for s in a b; do
	busywait 60000 test -e "$HA_DIR/$s/done" || echo "session $s did not finish"
done
echo "--- session a"
cat "$HA_DIR/a/res"
echo "--- session b"
cat "$HA_DIR/b/res"
check_eq "a t2 (r2, PASV sent to r1) RETR 64k.bin" "$(res a t2)" "ok $(sha "$FTP_ROOT/64k.bin") 65536"
check_eq "a t3 (r2, PASV to r2) RETR 1k.bin" "$(res a t3)" "ok $(sha "$FTP_ROOT/1k.bin") 1024"
check_eq "a t4 (r2, EPSV) STOR" "$(res a t4)" "ok"
check_eq "a t4: upload checksum on the server" "$(sha "$FTP_ROOT/upload/ha-up.bin" 2>/dev/null)" "$(sha "$HA_DIR/up.bin")"
check "r2: a's t3 reply rewritten by r2's helper (198,51,100,1)" \
	bash -c "grep '^< 227' $HA_DIR/a/log | tail -n 1 | grep -q '(198,51,100,1,'"
nat=$(($(ha_count r2 ftpx:ha-related-nat) - nat0))
rel=$(($(ha_count r2 ftpx:related) - rel0))
check "r2: the committed expectation's data connection was DNATed by the ruleset (+$nat)" test "$nat" -ge 1
check "r2: data connections admitted as related to ftpx (+$rel packets)" test "$rel" -ge 3
echo "r2 data connections DNATed by the related rule: $nat (t2; t3/t4 carry the helper's own NAT)"
check "r1 forwarded nothing after the failover (links down)" \
	test "$(ip -n "$NS_R1" -o link show c0 | grep -c 'state DOWN')" -eq 1
# the limit: a shortened session breaks once r2 forwards it
b3=$(res b t3)
echo "LIMIT: session whose 227 was shortened by r1, after the failover: t3 ${b3:-no result}"
check "b t3 fails after the failover (seqadj not synced; docs/ha.md)" grep -q '^fail' <<<"$b3"
echo "elapsed: $SECONDS s"
test_done
