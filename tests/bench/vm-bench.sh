#!/usr/bin/env bash
# The guest side of scripts/bench.sh: runs the parts named in
# FTPX_BENCH_PARTS (sessions datapath hints scale; comma or space
# separated), each in its own namespaces, and writes their results to
# $FTPX_OUT/bench/results.tsv. A part that fails is reported and the others
# still run; the exit status is non-zero then. Measuring runs take the
# parts one after another; the quick smoke (FTPX_BENCH_QUICK=1), whose
# figures mean nothing, runs them all at once to keep CI short.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"

parts=${FTPX_BENCH_PARTS:-sessions,datapath,hints,scale}
quick=${FTPX_BENCH_QUICK:-0}
mkdir -p "$FTPX_OUT/bench"
: > "$FTPX_OUT/bench/results.tsv"
: > "$FTPX_OUT/bench/status"
printf 'guest\tkernel\t%s\n' "$(uname -r)" >> "$FTPX_OUT/bench/results.tsv"
printf 'guest\tcpus\t%s\n' "$(nproc)" >> "$FTPX_OUT/bench/results.tsv"
printf 'guest\tquick\t%s\n' "$quick" >> "$FTPX_OUT/bench/results.tsv"
# loaded once here: parts that run at the same time must not race to load
ftpx_load || { echo "FAIL: bench: cannot load nf_ftpx"; exit 1; }
modprobe nf_conntrack_ftp && modprobe nf_nat_ftp || { echo "FAIL: bench: in-tree helper modules"; exit 1; }

# part NAME: run tests/bench/vm-NAME.sh; its verdict to the status file
part() {
	local p=$1 f=$here/vm-$1.sh t0=$SECONDS prc=0
	[ -x "$f" ] || { echo "FAIL: bench $p (no such part)" | tee -a "$FTPX_OUT/bench/status"; return 1; }
	timeout -k 10 "${FTPX_BENCH_PART_TIMEOUT:-1200}" "$f" > "$FTPX_OUT/bench/$p.log" 2>&1 < /dev/null || prc=$?
	printf 'time\t%s\t%s\n' "$p" $((SECONDS - t0)) >> "$FTPX_OUT/bench/results.tsv"
	if [ $prc -eq 0 ]; then
		echo "PASS: bench $p ($((SECONDS - t0)) s)" >> "$FTPX_OUT/bench/status"
	else
		echo "FAIL: bench $p (exit $prc, $((SECONDS - t0)) s)" >> "$FTPX_OUT/bench/status"
	fi
}
report() {
	grep '^bench: ' "$FTPX_OUT/bench/$1.log" 2>/dev/null
	grep " bench $1 " "$FTPX_OUT/bench/status"
	grep -q "^FAIL: bench $1 " "$FTPX_OUT/bench/status" && tail -n 30 "$FTPX_OUT/bench/$1.log" | sed 's/^/  > /'
	return 0
}

list=()
for p in ${parts//,/ }; do [ "$p" = parse ] || list+=("$p"); done # parse runs on the host
if [ "$quick" = 1 ]; then
	echo "== bench parts ${list[*]} (quick: at the same time)"
	pids=()
	for p in "${list[@]}"; do part "$p" & pids+=($!); done
	wait "${pids[@]}"
	for p in "${list[@]}"; do report "$p"; done
else
	for p in "${list[@]}"; do
		echo "== bench part $p"
		part "$p"
		report "$p"
		ftpx_reap
	done
fi
ftpx_reap
busywait 20000 ftpx_unload || echo "bench: nf_ftpx would not unload after the parts"
! grep -q '^FAIL' "$FTPX_OUT/bench/status"
