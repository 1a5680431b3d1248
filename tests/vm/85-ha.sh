#!/usr/bin/env bash
# ftpx-case-timeout: 600
# FTP and FTPS across a router failover. Two routers with conntrackd
# (Debian's package, FTFW over UDP on a sync link, expectation sync for
# ftpx), r1 active (tests/lib/ha.sh). Three sessions log in and transfer
# through r1, then r1 dies and r2 takes over the virtual addresses and
# commits what conntrackd sent it:
#   a  plain FTP (vsftpd :21). Before the failover: PASV (r1's helper
#      rewrites the reply and expects the data connection). After it:
#      t2  the data connection of that PASV: the expectation conntrackd
#          brought over, DNATed by the ruleset's related rule (conntrackd
#          commits expectations without NAT)
#      t3  RETR over a new PASV: r2's helper adopts the committed control
#          connection and expects the data connection itself
#      t4  STOR over EPSV
#   f  FTPS, implicit TLS (vsftpd :990, public address configured, random
#      passive ports), ftpx-agent in the server's namespace hinting the
#      server-side virtual address, where ftpxd runs on both routers (r2
#      bound to it before it has it: ip_nonlocal_bind). The same steps:
#      t2 uses the hint expectation r1's ftpxd made; t3/t4 need hints
#      accepted by r2's ftpxd, which requires r2's nf_ftpx to know the
#      adopted control connection as TLS (it saw no handshake, only
#      records)
#   b  plain FTP whose 227 reply r1 had to shorten (server 192.168.10.22:
#      "192,168,10,22" -> "198,51,100,1"): the limit. The sequence
#      adjustment is not synced, so after the failover its control
#      connection is out of step and breaks.
#   l  plain FTP to 192.168.10.22 that only logs in before the failover:
#      r2 makes the first length-changing rewrite on a conntrack that
#      conntrackd created (it must have sequence adjustment then)
# Checksums on both ends; rows in $FTPX_OUT/tables/failover.tsv.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/ftp.sh"
. "$here/../lib/ha.sh"
. "$here/hint-lib.bash"

TSV=$FTPX_OUT/tables/failover.tsv
row() {
	mkdir -p "${TSV%/*}"
	printf '%s\t%s\tftpx\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$TSV"
}

ha_require
hint_require
# a loaded emulated guest may spend more than the default 30 s between a
# hint and the data connection that uses it when a failover lies between
ftpx_load hint_timeout=120 || fail "cannot load nf_ftpx"
ha_setup
ha_rules || fail "ruleset"
ha_diagram
ha_conntrackd_start || fail "conntrackd did not start"

head -c 32 /dev/urandom | base64 >"$HINT_KEY"
chmod 600 "$HINT_KEY"
# ftpxd_start ROLE: ftpxd on the server-side VIP, its own socket and log
ftpxd_start() {
	local role=$1 ns conf=$HA_DIR/ftpxd-$1.conf
	ns=$(ns_of "$role")
	printf '%s\n' "[ftpxd]" "listen = $HA_VIP_S:$HINT_PORT" "key-file = $HINT_KEY" \
		"socket = $HA_DIR/ftpxd-$role.sock" >"$conf"
	ftpx_log 1 "+ [$role] ftpxd -c $conf -v"
	ip netns exec "$ns" "$HINT_US/ftpxd" -c "$conf" -v >>"$HA_DIR/ftpxd-$role.log" 2>&1 </dev/null &
	cleanup_push "kill $!"
	_up() { ip netns exec "$ns" "$HINT_US/ftpxctl" hints --socket "$HA_DIR/ftpxd-$role.sock" >/dev/null 2>&1; }
	busywait 10000 _up || { tail -n 20 "$HA_DIR/ftpxd-$role.log" >&2; return 1; }
}
# hstat ROLE NAME: a counter of that router's ftpxd
hstat() {
	ip netns exec "$(ns_of "$1")" "$HINT_US/ftpxctl" hints --socket "$HA_DIR/ftpxd-$1.sock" 2>/dev/null |
		awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'
}
ftpxd_start r1 || fail "ftpxd in r1"
ftpxd_start r2 || fail "ftpxd in r2"
# the sessions wait idle for the failover: longer than the 60 s default
server_start vsftpd --family 4 --conf idle_session_timeout=300 || fail "vsftpd"
server_start vsftpd --family 4 --tls implicit --masq "$HA_VIP_C" \
	--conf idle_session_timeout=300 || fail "vsftpd implicit TLS"
hint_start_agent || fail "ftpx-agent did not start"
head -c 200000 /dev/urandom >"$HA_DIR/up.bin"

# sess NAME PORT TLS PLAN: an ha-session.py in [c]
sess() {
	local d=$HA_DIR/$1
	mkdir -p "$d"
	cp "$HA_DIR/up.bin" "$d/"
	ftpx_log 1 "+ [c] ha-session.py $HA_VIP_C $2 $d $3 $4"
	ip netns exec "$NS_C" "$FTPX_PYTHON" "$here/ha-session.py" \
		"$HA_VIP_C" "$2" "$d" "$3" "$4" >"$d/log" 2>&1 </dev/null &
	cleanup_push "kill $!"
}
res() { awk -v n="$2" '$1 == n { $1 = ""; sub(/^ /, ""); print; exit }' "$HA_DIR/$1/res" 2>/dev/null; }
sha() { sha256sum <"$1" | awk '{ print $1 }'; }
cport() { cat "$HA_DIR/$1/cport"; }
pport() { awk '{ print $2 }' "$HA_DIR/$1/pasv"; }
has_exp() { ip netns exec "$(ns_of "$1")" conntrack -L expect 2>/dev/null | grep -q "dport=$2 "; }
SHA64="ok $(sha "$FTP_ROOT/64k.bin") 65536"
SHA1="ok $(sha "$FTP_ROOT/1k.bin") 1024"

sess a 21 none full
sess b 2121 none short
sess f 990 implicit full
sess l 2121 none late
for s in a b f l; do
	busywait 60000 test -e "$HA_DIR/$s/ready" ||
		{ cat "$HA_DIR/$s/log"; fail "session $s did not reach the failover point"; }
done
check_eq "a t1 (r1) RETR 64k.bin" "$(res a t1)" "$SHA64"
check_eq "b t1 (r1) RETR 64k.bin" "$(res b t1)" "$SHA64"
check_eq "f t1 (r1, hint) RETR 64k.bin over TLS" "$(res f t1)" "$SHA64"
check "b: r1 shortened the 227 reply (server sent .22)" \
	grep -q '^< 227 Entering Passive Mode (198,51,100,1,' "$HA_DIR/b/log"
echo "before the failover: a's PASV announced port $(pport a), f's $(pport f)"
check "r1 expects a's data connection (helper)" busywait 5000 has_exp r1 "$(pport a)"
check "r1 expects f's data connection (ftpxd, hint)" busywait 10000 has_exp r1 "$(pport f)"
ip netns exec "$NS_R1" "$HINT_US/ftpxctl" sessions 2>/dev/null | sed 's/^/r1 session: /'

# what r2's conntrackd received from r1 (external cache)
t0=$(ftpx_now_ms)
for s in a f l; do
	check "r2's conntrackd holds $s's control connection" busywait 10000 ha_ext_has r2 ct "sport=$(cport $s) "
done
for s in a f; do
	check "r2's conntrackd holds $s's expectation" busywait 10000 ha_ext_has r2 expect "dport=$(pport $s) "
done
echo "sync: r2's external cache complete $(($(ftpx_now_ms) - t0)) ms after r1 had the expectations"
check "r2's kernel has no conntrack of a yet" \
	bash -c "! ip netns exec $NS_R2 conntrack -L 2>/dev/null | grep -q 'sport=$(cport a) '"

# the helper's sequence adjustment (b's 227 reply became one byte shorter),
# as ctnetlink reports it
seqadj() { ip netns exec "$(ns_of "$1")" "$FTPX_PYTHON" "$FTPX_LIBDIR/tools/ctseqadj.py" "$2"; }
sa1=$(seqadj r1 "$(cport b)")
echo "r1 seqadj of b: $sa1"
check "r1: b's control connection has a reply offset of -1" grep -q 'reply=[0-9]*,[-0-9]*,-1$' <<<"$sa1"

ha_failover || fail "failover"
ha_diagram | tail -n 1
echo "failover: VIPs moved and announced in $HA_MOVE_MS ms, commit of conntracks and expectations took $HA_COMMIT_MS ms"
ctl=$(ip netns exec "$NS_R2" conntrack -L -p tcp --sport "$(cport a)" 2>/dev/null)
echo "r2: $ctl"
check "r2: a's control connection committed, helper ftpx" grep -q 'helper=ftpx' <<<"$ctl"
check "r2: a's control connection keeps its DNAT (reply from $HA_SRV)" grep -q "src=$HA_SRV dst=198.51.100.2" <<<"$ctl"
sa2=$(seqadj r2 "$(cport b)")
echo "r2 seqadj of b after the commit: $sa2"
check "r2: b's committed conntrack came without the offset (the limit's cause)" \
	grep -q 'reply=-$' <<<"$sa2"
ip netns exec "$NS_R2" conntrack -L expect 2>/dev/null | sed 's/^/r2 expect: /'
check "r2: a's expectation committed" has_exp r2 "$(pport a)"
check "r2: f's hint expectation committed" has_exp r2 "$(pport f)"

nat0=$(ha_count r2 ftpx:ha-related-nat)
rel0=$(ha_count r2 ftpx:related)
acc0=$(hstat r2 accepted)
touch "$HA_DIR/a/go" "$HA_DIR/b/go" "$HA_DIR/f/go" "$HA_DIR/l/go"
for s in a b f l; do
	busywait 90000 test -e "$HA_DIR/$s/done" || echo "session $s did not finish"
done
r2s=$(ip netns exec "$NS_R2" "$HINT_US/ftpxctl" sessions 2>/dev/null)
sed 's/^/r2 session: /' <<<"$r2s"
check "r2: nf_ftpx took f's adopted control connection for TLS (mode=explicit-tls)" \
	grep -q "mode=explicit-tls .* sport=$(cport f) dport=990 " <<<"$r2s"
for s in a b f l; do
	echo "--- session $s"
	cat "$HA_DIR/$s/res"
done
up=$(sha "$HA_DIR/up.bin")
# t4 STOR: the client's "ok" and the file on the server
stor() { [ "$(res "$1" t4)" = ok ] && [ "$(sha "$FTP_ROOT/upload/ha-$1.bin" 2>/dev/null)" = "$up" ]; }

check_eq "a t2 (r2, PASV sent to r1) RETR 64k.bin" "$(res a t2)" "$SHA64" && pa2=pass || pa2=fail
check_eq "a t3 (r2, PASV to r2) RETR 1k.bin" "$(res a t3)" "$SHA1" && pa3=pass || pa3=fail
check "a t4 (r2, EPSV) STOR, checksum on the server" stor a && pa4=pass || pa4=fail
check "a: the t3 reply was rewritten by r2's helper (198,51,100,1)" \
	bash -c "grep '^< 227' $HA_DIR/a/log | tail -n 1 | grep -q '(198,51,100,1,'"
check_eq "f t2 (r2, hint made by r1) RETR 64k.bin over TLS" "$(res f t2)" "$SHA64" && pf2=pass || pf2=fail
check_eq "f t3 (r2, hint to r2) RETR 1k.bin over TLS" "$(res f t3)" "$SHA1" && pf3=pass || pf3=fail
check "f t4 (r2, EPSV, hint to r2) STOR over TLS, checksum on the server" stor f && pf4=pass || pf4=fail
acc=$(($(hstat r2 accepted) - acc0))
check "r2's ftpxd accepted f's hints after the failover (+$acc)" test "$acc" -ge 2
nat=$(($(ha_count r2 ftpx:ha-related-nat) - nat0))
rel=$(($(ha_count r2 ftpx:related) - rel0))
check "r2: the committed expectations' data connections were DNATed by the ruleset (+$nat)" test "$nat" -ge 2
check "r2: data connections admitted as related to ftpx (+$rel)" test "$rel" -ge 6
check "r1 forwarded nothing after the failover (links down)" \
	test "$(ip -n "$NS_R1" -o link show c0 | grep -c 'state DOWN')" -eq 1
check_eq "l t3 (r2's first rewrite, shortening, on a committed conntrack) RETR 1k.bin" \
	"$(res l t3)" "$SHA1" && pl3=pass || pl3=fail
b3=$(res b t3)
echo "LIMIT: session whose 227 was shortened by r1, after the failover: t3 ${b3:-no result}"
check "b t3 fails after the failover (seqadj not synced; docs/ha.md)" grep -q '^fail' <<<"$b3"
echo "--- ftpxd r2"
ip netns exec "$NS_R2" "$HINT_US/ftpxctl" hints --socket "$HA_DIR/ftpxd-r2.sock" | grep -v ' 0$'
grep -E 'refused|accepted' "$HA_DIR/ftpxd-r2.log" | tail -n 6

note="commit on the backup ${HA_COMMIT_MS} ms"
row ha-ftp-pre "plain FTP: PASV before the failover, data connection after (committed expectation, related DNAT rule)" "$pa2" "$note"
row ha-ftp-post "plain FTP: PASV RETR and EPSV STOR after the failover (adopted control connection)" \
	"$([ "$pa3$pa4" = passpass ] && echo pass || echo fail)"
row ha-ftps-pre "FTPS implicit, hints: data connection of a hint made before the failover" "$pf2"
row ha-ftps-post "FTPS implicit, hints: PASV RETR and EPSV STOR after the failover (hints to the backup's ftpxd)" \
	"$([ "$pf3$pf4" = passpass ] && echo pass || echo fail)" "r2 accepted $acc hints"
row ha-ftp-late "plain FTP: first length-changing 227 rewrite after the failover (adopted control connection)" "$pl3"
row ha-limit-seqadj "limit: plain FTP whose 227 reply was shortened before the failover (seqadj not synced)" \
	"$(grep -q '^ok' <<<"$b3" && echo pass || echo fail)" "a failure is the documented limit (docs/ha.md)"
echo "elapsed: $SECONDS s"
test_done
