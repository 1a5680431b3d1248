#!/usr/bin/env bash
# Benchmark part "datapath": bulk FTPS download (vsftpd explicit TLS, curl,
# PASV) through the router, for three setups:
#   static   the passive range DNATed and forwarded (a port forward)
#   gate     nf_ftpx opens the range only to the session's client (gates)
#   hints    no range: ftpx-agent hints ftpxd, which opens the exact port
# Throughput is the data phase only (bytes / (total - start of transfer)),
# the file is checked by SHA-256 after each run; rounds alternate the
# setups and the median counts.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/ftp.sh"
. "$here/../vm/hint-lib.bash"
. "$here/lib.bash"

if [ "$BENCH_QUICK" = 1 ]; then
	ROUNDS=1 MB=1
else
	ROUNDS=3 MB=8
fi
# 64 ports: the module opens at most gate_max (64) gates per session
BENCH_RANGE=50000-50063
CTL=$FTPX_TOP/userspace/ftpxctl
hint_require
bench_modules || fail "modules"
topo_setup c
topo_diagram
ftp_root_setup
head -c $((MB << 20)) /dev/urandom > "$FTP_ROOT/bulk.bin"
SHA=$(sha256sum "$FTP_ROOT/bulk.bin" | cut -d' ' -f1)
# the router drops unsolicited connections to its own address (a WAN input
# policy, as in the hint cases): a data connection whose SYN beats its
# hint is retried by the client instead of being reset by the router
hint_router_input
hint_start_ftpxd "sync-servers = no" || fail "ftpxd"
hint_start_agent || fail "ftpx-agent"
dst=$(ftpx_tmpdir)/bulk.out

setup() {
	server_stop_all >/dev/null 2>&1
	on r "$CTL" flush >/dev/null
	case $1 in
	static)
		bench_rules static
		server_start vsftpd --family 4 --tls explicit --pasv "$BENCH_RANGE" --masq "$S_PUB4" ;;
	gate)
		bench_rules gate
		on r "$CTL" server set "$S_ADDR4" pasv "$BENCH_RANGE" >/dev/null || fail "ftpxctl server set"
		server_start vsftpd --family 4 --tls explicit --pasv "$BENCH_RANGE" --masq "$S_PUB4" ;;
	hints)
		bench_rules ftpx
		server_start vsftpd --family 4 --tls explicit --masq "$S_PUB4" ;;
	esac
}

declare -A TP=()
bad=0
for round in $(seq "$ROUNDS"); do
	for s in static gate hints; do
		setup "$s" || fail "setup $s"
		ok=0
		for try in 1 2; do
			rm -f "$dst"
			w=$(ip netns exec "$NS_C" curl -sS -g --max-time 300 --ssl-reqd -k \
				--user "$FTP_USER:$FTP_PASS" --ftp-pasv --disable-epsv --no-ftp-skip-pasv-ip \
				-w '%{size_download} %{time_starttransfer} %{time_total}' \
				"ftp://$S_PUB4/bulk.bin" -o "$dst" 2>&1)
			# shellcheck disable=SC2086 # three numbers
			set -- $w
			if [ "${1:-0}" = $((MB << 20)) ] && [ "$(sha256sum < "$dst" | cut -d' ' -f1)" = "$SHA" ]; then
				ok=1
				break
			fi
			echo "round $round $s try $try: transfer failed or corrupt: $w"
			on s ss -tanp 2>&1 | head -n 20
			on r nft list chain inet bench forward
			on r conntrack -L 2>&1 | head -n 20
			bad=$((bad + 1))
		done
		[ $ok = 1 ] || continue
		tp=$(awk -v b="$1" -v s="$2" -v t="$3" 'BEGIN { printf "%.2f", b / (t - s) / 1048576 }')
		echo "round $round $s: $1 bytes, first byte at $2 s, done at $3 s: $tp MiB/s"
		TP[$s]+="$tp "
	done
done
for s in static gate hints; do
	# shellcheck disable=SC2086
	bench_row datapath "mibs.$s" "$(bench_median ${TP[$s]:-})"
	tps=${TP[$s]:-}
	bench_row datapath "rounds.$s" "${tps% }"
done
bench_row datapath size_mib "$MB"
bench_row datapath rounds "$ROUNDS"
bench_row datapath failed "$bad"
bench_row datapath hints_accepted "$(hint_stat accepted)"
# a transfer that failed once and then worked is in the log and the table;
# a setup with no transfer at all fails the part
for s in static gate hints; do [ -n "${TP[$s]:-}" ] || exit 1; done
