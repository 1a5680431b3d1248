#!/usr/bin/env bash
# Benchmark part "sessions": complete plain FTP sessions per second through
# the router (tests/bench/ftpload.py: login, PASV, 1 KiB RETR checked by
# SHA-256, QUIT) at 1, 8 and 64 concurrent clients, for the setups ftpx,
# intree and static (lib.bash). Rounds run the setups in turn (A B C A B C
# ...) and the median of the rounds is kept, so a change in the host's load
# hits all of them. CPU: the guest's busy and sys+softirq jiffies per
# session (client, router and server together: they share one kernel).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/ftp.sh"
. "$here/lib.bash"

if [ "$BENCH_QUICK" = 1 ]; then
	ROUNDS=1 SECS=1 CONC="1"
else
	ROUNDS=${FTPX_BENCH_ROUNDS:-3} SECS=${FTPX_BENCH_SECS:-6} CONC="1 8 64"
fi
bench_modules || fail "modules"
topo_setup c
topo_diagram
ftp_root_setup
SHA=$(sha256sum "$FTP_ROOT/1k.bin" | cut -d' ' -f1)
HZ=$(getconf CLK_TCK)

bench_row sessions conc "$CONC"
bench_row sessions rounds "$ROUNDS"
bench_row sessions seconds "$SECS"
declare -A RATE=() CPU=() SYS=() FAILS=() DROPS=()
start_setup() {
	server_stop_all >/dev/null 2>&1
	if [ "$1" = static ]; then
		server_start vsftpd --family 4 --pasv "$BENCH_RANGE" --masq "$S_PUB4" \
			--conf max_per_ip=0 --conf max_clients=0 || fail "vsftpd"
	else
		server_start vsftpd --family 4 --pasv "$BENCH_RANGE" \
			--conf max_per_ip=0 --conf max_clients=0 || fail "vsftpd"
	fi
	bench_rules "$1" || fail "rules $1"
	# one untimed session: first-use costs (page cache, Python, the
	# server's first fork) must not count against the first setup (the
	# smoke's figures mean nothing: it saves the time)
	[ "$BENCH_QUICK" = 1 ] || ip netns exec "$NS_C" "$FTPX_PYTHON" "$BENCH_DIR/ftpload.py" "$S_PUB4" 21 \
		--clients 1 --seconds 0 --size 1024 --sha256 "$SHA" >/dev/null
}
# packets the router's forward chain dropped (a data connection's SYN that
# found no expectation is dropped and retried by the client a second later)
drops() {
	ip netns exec "$NS_R" nft list chain inet bench forward 2>/dev/null |
		awk '/"ftpx:drop"/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}
for round in $(seq "$ROUNDS"); do
	for setup in ftpx intree static; do
		start_setup "$setup"
		for n in $CONC; do
			d0=$(drops)
			c0=$(bench_cpu)
			out=$(ip netns exec "$NS_C" "$FTPX_PYTHON" "$BENCH_DIR/ftpload.py" "$S_PUB4" 21 \
				--clients "$n" --seconds "$SECS" --size 1024 --sha256 "$SHA" --timeout 60)
			c1=$(bench_cpu)
			echo "round $round $setup c=$n: $out; forward drops $(($(drops) - d0))"
			DROPS[$setup.$n]=$((${DROPS[$setup.$n]:-0} + $(drops) - d0))
			ok=$(echo "$out" | sed -n 's/.*"ok": \([0-9]*\).*/\1/p')
			bad=$(echo "$out" | sed -n 's/.*"failed": \([0-9]*\).*/\1/p')
			rate=$(echo "$out" | sed -n 's/.*"rate": \([0-9.]*\).*/\1/p')
			RATE[$setup.$n]+="${rate:-0} "
			FAILS[$setup.$n]=$((${FAILS[$setup.$n]:-0} + ${bad:-1}))
			# shellcheck disable=SC2086 # two pairs of numbers
			set -- $c0 $c1
			cpu=- sys=-
			if [ "${ok:-0}" -gt 0 ]; then
				cpu=$(awk -v b=$(($3 - $1)) -v n="$ok" -v hz="$HZ" 'BEGIN { printf "%.2f", b / hz * 1000 / n }')
				sys=$(awk -v b=$(($4 - $2)) -v n="$ok" -v hz="$HZ" 'BEGIN { printf "%.2f", b / hz * 1000 / n }')
				CPU[$setup.$n]+="$cpu "
				SYS[$setup.$n]+="$sys "
			fi
			# each round as it ends: a part cut short keeps its rounds
			bench_row sessions "round.$round.$setup.$n" "${rate:-0} ${ok:-0} ${bad:-1} $cpu $sys $(($(drops) - d0))"
		done
	done
done
for setup in ftpx intree static; do
	for n in $CONC; do
		# shellcheck disable=SC2086 # lists of numbers
		{
		bench_row sessions "rate.$setup.$n" "$(bench_median ${RATE[$setup.$n]})"
		bench_row sessions "rounds.$setup.$n" "${RATE[$setup.$n]% }"
		bench_row sessions "failed.$setup.$n" "${FAILS[$setup.$n]}"
		bench_row sessions "drops.$setup.$n" "${DROPS[$setup.$n]}"
		bench_row sessions "cpu_ms.$setup.$n" "$(bench_median ${CPU[$setup.$n]:-})"
		bench_row sessions "sys_ms.$setup.$n" "$(bench_median ${SYS[$setup.$n]:-})"
		}
	done
done
rc=0
for k in "${!FAILS[@]}"; do
	[ "${FAILS[$k]}" -eq 0 ] || { echo "sessions: $k had ${FAILS[$k]} failed sessions"; rc=1; }
done
exit $rc
