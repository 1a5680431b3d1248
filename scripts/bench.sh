#!/usr/bin/env bash
# Usage: scripts/bench.sh [--quick] [--out DIR] [KVER]
#
# nf_ftpx's benchmarks (docs/bench.md explains each figure). Every figure
# is compared with a baseline measured in the same run: the in-tree helper
# (nf_conntrack_ftp + nf_nat_ftp, or its matcher rebuilt in userspace),
# a static port forward, or a UDP echo.
#   parse     host: tests/bench/parse_bench under callgrind (instructions
#             per control line) and timed (lines/s)
#   sessions, datapath, hints, scale
#             one qemu boot of KVER (default: the first of
#             scripts/kernels.sh) running tests/bench/vm-bench.sh
# FTPX_BENCH_PARTS=parse,sessions,datapath,hints,scale picks parts.
# --quick: short runs of every part (CI: the table prints, nothing is
# judged); the full run (`make bench`) also writes docs/bench.md.
# Results: DIR (default build/bench) has results.tsv, bench.md and the
# guest's logs in vm/.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
quick=0 out=$top/build/bench
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1; shift ;;
	--out) out=$2; shift 2 ;;
	-*) sed -n '2p' "$0" | sed 's/^# //' >&2; exit 2 ;;
	*) break ;;
	esac
done
kver=${1:-$(scripts/kernels.sh | head -n 1)}
parts=${FTPX_BENCH_PARTS:-parse,sessions,datapath,hints,scale}
parts=${parts//,/ }
has() { [[ " $parts " == *" $1 "* ]]; }
mkdir -p "$out"
res=$out/results.tsv
: > "$res"
t0=$SECONDS
rc=0
row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$res"; }
row host date "$(date -u '+%Y-%m-%d %H:%M UTC')"
row host cpus "$(nproc)"
row host load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
row host commit "$(git rev-parse --short HEAD 2>/dev/null)"
row host quick "$quick"

make -s -C tests/bench || exit 1
[ -f "build/$kver/nf_ftpx.ko" ] || { echo "bench: build/$kver/nf_ftpx.ko missing (make all-kernels)" >&2; exit 1; }

if has parse; then
	echo "== bench part parse (host)"
	secs=10
	[ $quick = 1 ] && secs=1
	pt=$SECONDS
	for set in real adv; do
		for p in ftpx intree; do
			cg=$(mktemp)
			lines=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
				--toggle-collect=bench_run tests/bench/parse_bench count "$p" "$set" \
				tests/fuzz/corpus 2> "$cg" | sed -n 's/^lines //p')
			ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$cg")
			rm -f "$cg"
			if [ -z "$ir" ] || [ -z "$lines" ]; then
				echo "FAIL: bench parse: callgrind $p $set"
				rc=1
				continue
			fi
			row parse "lines.$set" "$lines"
			row parse "ir.$p.$set" "$ir"
		done
		tests/bench/parse_bench rate "$set" tests/fuzz/corpus "$secs" |
			while read -r k p v; do [ "$k" = rate ] && row parse "rate.$p.$set" "$v"; done
	done
	row time parse $((SECONDS - pt))
	grep '^parse' "$res" | sed 's/^/bench: /'
fi

vmparts=
for p in sessions datapath hints scale; do has "$p" && vmparts+="$p,"; done
if [ -n "$vmparts" ]; then
	echo "== bench parts ${vmparts%,} (guest $kver)"
	vrc=0
	# a measuring part may run long on a loaded host; the smoke may not
	[ $quick = 1 ] && ptmo=600 || ptmo=3600
	FTPX_BENCH_PARTS=${vmparts%,} FTPX_BENCH_QUICK=$quick \
		FTPX_BENCH_PART_TIMEOUT=${FTPX_BENCH_PART_TIMEOUT:-$ptmo} \
		scripts/vm-run.sh --timeout "${FTPX_BENCH_VM_TIMEOUT:-7200}" --out "$out/vm" \
		"$kver" tests/bench/vm-bench.sh || vrc=$?
	cat "$out/vm/bench/results.tsv" >> "$res" 2>/dev/null
	[ -f "$out/vm/boot-seconds" ] && row time boot "$(< "$out/vm/boot-seconds")"
	[ $vrc -eq 0 ] || { echo "bench: guest run failed (vm-run status $vrc), logs in $out/vm/bench/"; rc=1; }
fi
row host load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
row time total $((SECONDS - t0))

tests/bench/table.sh "$res" > "$out/bench.md" || rc=1
cat "$out/bench.md"
if [ $quick = 0 ] && [ -z "${FTPX_BENCH_PARTS:-}" ]; then
	cp "$out/bench.md" docs/bench.md
	echo "bench: wrote docs/bench.md"
fi
echo "bench: $((SECONDS - t0)) s, results in $out"
exit $rc
