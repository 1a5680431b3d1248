#!/usr/bin/env bash
# Benchmark part "hints": how fast ftpxd turns a signed UDP hint into a
# conntrack expectation. A real FTPS control session (vsftpd explicit TLS,
# Python ftplib, logged in, PROT P) is held open through the router; from
# the server's namespace tests/bench/hintload sends hints for it, as
# ftpx-agent would, with a new data port each time.
#   latency  one hint at a time: send -> ftpxd's verdict, which it sends
#            once ctnetlink has acknowledged the expectation (p50, p99)
#   floor    the same UDP round trip to an echo server in the router's
#            namespace: what the emulated guest costs with no work behind
#   rate     64 hints in flight for a while: accepted hints per second,
#            and the CPU seconds ftpxd, the load generator and the whole
#            guest spent meanwhile
# Afterwards the router must hold ftpx-hint expectations for the session.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/ftp.sh"
. "$here/../vm/hint-lib.bash"
. "$here/lib.bash"

if [ "$BENCH_QUICK" = 1 ]; then
	COUNT=50 SECS=2
else
	COUNT=500 SECS=8
fi
LOAD=$BENCH_DIR/hintload
[ -x "$LOAD" ] || skip "tests/bench/hintload not built"
hint_require
bench_modules || fail "modules"
topo_setup c
topo_diagram
bench_rules ftpx
hint_start_ftpxd "sync-servers = no" || fail "ftpxd"
server_start vsftpd --family 4 --tls explicit --masq "$S_PUB4" || fail "vsftpd"
tmp=$(ftpx_tmpdir)
cat > "$tmp/hold.py" <<'EOF'
import ftplib, os, ssl, sys, time
host, base = sys.argv[1:3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
f = ftplib.FTP_TLS(context=ctx, timeout=30)
f.connect(host, 21)
f.login("anonymous", "ftpx@example.org")
f.prot_p()
open(base + ".port", "w").write("%d\n" % f.sock.getsockname()[1])
end = time.monotonic() + 900
while not os.path.exists(base + ".release") and time.monotonic() < end:
    time.sleep(0.1)  # poll for the release file
f.quit()
EOF
ip netns exec "$NS_C" "$FTPX_PYTHON" "$tmp/hold.py" "$S_PUB4" "$tmp/hold" > "$tmp/hold.log" 2>&1 &
cleanup_push "touch $tmp/hold.release"
busywait 60000 test -s "$tmp/hold.port" || fail "FTPS control session did not log in: $(cat "$tmp/hold.log")"
CPORT=$(< "$tmp/hold.port")
RADDR=$(hint_r_addr)
echo "control session $C_ADDR4:$CPORT -> $S_ADDR4:21; ftpxd at $RADDR:$HINT_PORT"

ip netns exec "$NS_R" "$LOAD" echo-server "$RADDR:4022" > "$tmp/echo.log" 2>&1 &
cleanup_push "kill $!"
busywait 10000 grep -q ready "$tmp/echo.log" || fail "echo server"

pct() { sort -g | awk -v p="$1" '{ v[NR] = $1 } END { i = int(p * NR); if (i < 1) i = 1; if (i > NR) i = NR; printf "%.3f", v[i] / 1000 }'; }
on s "$LOAD" latency "$RADDR:$HINT_PORT" "$HINT_KEY" "$C_ADDR4" "$CPORT" "$S_ADDR4" 21 "$COUNT" \
	> "$tmp/lat.out" 2> "$tmp/lat.err" || fail "latency run: $(tail -n 5 "$tmp/lat.err")"
on s "$LOAD" echo "$RADDR:4022" "$COUNT" > "$tmp/echo.out" || fail "echo run"
tail -n 1 "$tmp/lat.out"
tail -n 1 "$tmp/echo.out"
bench_row hints lat_p50_ms "$(sed -n 's/^lat_us //p' "$tmp/lat.out" | pct 0.5)"
bench_row hints lat_p99_ms "$(sed -n 's/^lat_us //p' "$tmp/lat.out" | pct 0.99)"
bench_row hints floor_p50_ms "$(sed -n 's/^lat_us //p' "$tmp/echo.out" | pct 0.5)"
bench_row hints floor_p99_ms "$(sed -n 's/^lat_us //p' "$tmp/echo.out" | pct 0.99)"
bench_row hints lat_n "$(grep -c '^lat_us' "$tmp/lat.out")"
bench_row hints lat_refused "$(sed -n 's/^accepted [0-9]* refused //p' "$tmp/lat.out")"

# where the rate run's CPU time goes: ftpxd's (its /proc stat; ip netns
# exec became ftpxd), the load generator's, the whole guest's busy time
ftpxd_ticks() { awk '{ print $14, $15 }' "/proc/$HINT_DPID/stat"; }
f0=$(ftpxd_ticks) g0=$(bench_cpu | cut -d' ' -f1)
on s /usr/bin/time -f "%U %S" -o "$tmp/rate.time" \
	"$LOAD" rate "$RADDR:$HINT_PORT" "$HINT_KEY" "$C_ADDR4" "$CPORT" "$S_ADDR4" 21 "$SECS" 64 \
	> "$tmp/rate.out" 2> "$tmp/rate.err" || fail "rate run: $(tail -n 5 "$tmp/rate.err")"
f1=$(ftpxd_ticks) g1=$(bench_cpu | cut -d' ' -f1)
cat "$tmp/rate.out"
hz=$(getconf CLK_TCK)
secs() { awk -v a="$1" -v b="$2" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }'; }
read -r fu0 fs0 <<< "$f0"
read -r fu1 fs1 <<< "$f1"
bench_row hints rate_cpu_ftpxd_s "$(secs $((fu0 + fs0)) $((fu1 + fs1)))"
bench_row hints rate_cpu_ftpxd_user_s "$(secs "$fu0" "$fu1")"
bench_row hints rate_cpu_ftpxd_sys_s "$(secs "$fs0" "$fs1")"
bench_row hints rate_cpu_load_s "$(awk '{ printf "%.2f", $1 + $2 }' "$tmp/rate.time")"
bench_row hints rate_cpu_guest_s "$(secs "$g0" "$g1")"
sort "$tmp/rate.err" | uniq -c | sort -rn | head -n 5
bench_row hints rate "$(sed -n 's/^rate //p' "$tmp/rate.out")"
bench_row hints rate_refused "$(sed -n 's/^refused //p' "$tmp/rate.out")"
bench_row hints rate_seconds "$(sed -n 's/^seconds //p' "$tmp/rate.out")"
bench_row hints rate_lost "$(sed -n 's/^lost //p' "$tmp/rate.out")"
nexp=$(ip netns exec "$NS_R" conntrack -L expect 2>/dev/null | grep -c "dport=[0-9]* .*ftpx" || true)
nall=$(ip netns exec "$NS_R" conntrack -L expect 2>/dev/null | grep -c . || true)
echo "router expectations after the run: $nall ($nexp naming ftpx)"
bench_row hints expectations_after "$nall"
hint_ctl hints --socket "$HINT_SOCK" | head -n 20
[ "$nall" -gt 0 ] || fail "no expectation in the router after the hints"
