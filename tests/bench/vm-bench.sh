#!/usr/bin/env bash
# The guest side of scripts/bench.sh: runs the parts named in
# FTPX_BENCH_PARTS (sessions datapath hints scale; comma or space
# separated) one after another, each in its own namespaces, and writes
# their results to $FTPX_OUT/bench/results.tsv. A part that fails is
# reported and the others still run; the exit status is non-zero then.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"

parts=${FTPX_BENCH_PARTS:-sessions,datapath,hints,scale}
mkdir -p "$FTPX_OUT/bench"
: > "$FTPX_OUT/bench/results.tsv"
: > "$FTPX_OUT/bench/status"
printf 'guest\tkernel\t%s\n' "$(uname -r)" >> "$FTPX_OUT/bench/results.tsv"
printf 'guest\tcpus\t%s\n' "$(nproc)" >> "$FTPX_OUT/bench/results.tsv"
printf 'guest\tquick\t%s\n' "${FTPX_BENCH_QUICK:-0}" >> "$FTPX_OUT/bench/results.tsv"
rc=0
for p in ${parts//,/ }; do
	[ "$p" = parse ] && continue # runs on the host
	f=$here/vm-$p.sh
	[ -x "$f" ] || { echo "bench: no part $p"; rc=1; continue; }
	echo "== bench part $p"
	t0=$SECONDS
	prc=0
	timeout -k 10 "${FTPX_BENCH_PART_TIMEOUT:-1200}" "$f" > "$FTPX_OUT/bench/$p.log" 2>&1 < /dev/null || prc=$?
	ftpx_reap
	busywait 20000 ftpx_unload || echo "bench: nf_ftpx would not unload after $p"
	printf 'time\t%s\t%s\n' "$p" $((SECONDS - t0)) >> "$FTPX_OUT/bench/results.tsv"
	grep '^bench: ' "$FTPX_OUT/bench/$p.log"
	if [ $prc -eq 0 ]; then
		echo "PASS: bench $p ($((SECONDS - t0)) s)" | tee -a "$FTPX_OUT/bench/status"
	else
		echo "FAIL: bench $p (exit $prc, $((SECONDS - t0)) s)" | tee -a "$FTPX_OUT/bench/status"
		tail -n 30 "$FTPX_OUT/bench/$p.log" | sed 's/^/  > /'
		rc=1
	fi
done
exit $rc
