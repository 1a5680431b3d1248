# shellcheck shell=bash
# Test-case runner and helpers for the guest (sourced, never run). The suite
# (tests/lib/suite.sh) uses ftpx_run_case; test cases source this file for
# ftpx_load/ftpx_unload, busywait and ftpx_skip.
#
# A test case is one executable: exit 0 pass, 77 skip, anything else fail. The
# runner also fails a case that exits 0 when, while it ran, the kernel log
# gained a warning/BUG/oops/lockdep/sanitizer report, a debug kernel's
# kmemleak found an unreferenced object, or the kernel gained a taint other
# than O/E (rules in scripts/vm/klog.sh).

FTPX_TOP=${FTPX_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# Results and per-case logs go to the VM's results share when there is one.
FTPX_OUT=${FTPX_OUT:-/tmp/ftpx-out}
# Seconds a case may run before it is killed and failed.
FTPX_CASE_TIMEOUT=${FTPX_CASE_TIMEOUT:-300}
# shellcheck source=SCRIPTDIR/../../scripts/vm/klog.sh
. "$FTPX_TOP/scripts/vm/klog.sh"

ftpx_ko=$FTPX_TOP/build/$(uname -r)/nf_ftpx.ko

# ftpx_load [PARAM=VALUE...]: load the nf_ftpx.ko built for the running kernel,
# after modprobing the modules it takes symbols from (its "depends", e.g.
# nf_conntrack, nf_nat), since insmod does not resolve dependencies.
ftpx_load() {
	local dep
	if [ ! -f "$ftpx_ko" ]; then
		echo "ftpx_load: $ftpx_ko is missing (not built for $(uname -r)?)" >&2
		return 1
	fi
	for dep in $(modinfo -F depends "$ftpx_ko" | tr , ' '); do
		modprobe "$dep" || return
	done
	insmod "$ftpx_ko" "$@"
}

# ftpx_unload: remove nf_ftpx if it is loaded.
ftpx_unload() {
	[ -d /sys/module/nf_ftpx ] || return 0
	rmmod nf_ftpx
}

# ftpx_reap: kill the processes in leftover test namespaces (ftpx-*) and
# delete the namespaces; prints what it removed.
ftpx_reap() {
	local ns pid gone=()
	for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^ftpx-/ { print $1 }'); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null && gone+=("$ns")
	done
	[ ${#gone[@]} -eq 0 ] || echo "left namespaces behind: ${gone[*]}"
}

# busywait TIMEOUT_MS CMD [ARGS...]: run CMD until it succeeds or TIMEOUT_MS
# has passed (then false). Tests wait for conditions with it, never for a
# fixed time.
busywait() {
	local timeout_ms=$1 end
	shift
	end=$((${EPOCHREALTIME/./} / 1000 + timeout_ms))
	until "$@"; do
		((${EPOCHREALTIME/./} / 1000 < end)) || return 1
		sleep 0.05 # busywait poll interval
	done
}

# ftpx_skip REASON: end a test case as skipped; the runner shows REASON.
ftpx_skip() {
	echo "SKIP: $*"
	exit 77
}

# ftpx_result VERDICT NAME [DETAIL]: print and record one result line.
ftpx_result() {
	local line="$1: $2${3:+ ($3)}"
	echo "$line"
	echo "$line" >> "$FTPX_OUT/results"
}

# ftpx_run_case FILE: run one test case with a time limit and report it as
# PASS/FAIL/SKIP. A failing case's output tail and the offending kernel log
# lines are printed; its full output stays in $FTPX_OUT/cases/NAME.log.
ftpx_run_case() {
	local file=$1 name log marker taint0 rc hits leaks new why=() reason left limit t0
	name=${file##*/}
	name=${name%.sh}
	mkdir -p "$FTPX_OUT/cases"
	log=$FTPX_OUT/cases/$name.log
	# The kernel log since this marker is the case's share of it.
	marker="ftpx-runner: begin $name $$.$RANDOM"
	taint0=$(< /proc/sys/kernel/tainted)
	echo "$marker" > /dev/kmsg

	# A long case says so in a header line "# ftpx-case-timeout: SECONDS"
	# (for the default 300; scaled with FTPX_CASE_TIMEOUT for slow kernels).
	limit=$(sed -n '1,40s/^# ftpx-case-timeout: *\([0-9][0-9]*\).*/\1/p' "$file" | head -n 1)
	limit=$((${limit:-300} * FTPX_CASE_TIMEOUT / 300))
	[ "$limit" -ge "$FTPX_CASE_TIMEOUT" ] || limit=$FTPX_CASE_TIMEOUT
	rc=0
	t0=$SECONDS
	timeout -k 10 "$limit" "$file" > "$log" 2>&1 < /dev/null || rc=$?
	# for the CI time budget: what each case costs
	echo "time: $name $((SECONDS - t0)) s"
	# A case that was killed leaves its namespaces (and the processes and
	# ruleset references in them) behind: they must not break the next one.
	left=$(ftpx_reap)
	if [ -n "$left" ]; then
		echo "runner: $left" >> "$log"
		[ "$rc" -eq 0 ] && why+=("$left")
	fi
	# A case must leave the module unloadable (a leaked reference shows here)
	# and must not hand it loaded to the next case. Namespaces go away
	# asynchronously, and with them the ruleset's references: poll.
	if ! busywait 20000 ftpx_unload >> "$log" 2>&1; then
		why+=("nf_ftpx would not unload after the case")
	fi

	# A debug kernel's leak scan: what this case (or its unload) leaked.
	leaks=$(kmemleak_check)
	if [ -n "$leaks" ]; then
		printf 'runner: kmemleak:\n%s\n' "$leaks" >> "$log"
		why+=("kmemleak: $(grep -c '^unreferenced object' <<< "$leaks") unreferenced objects")
	fi
	# Everything after the marker; all of the log if it has scrolled away.
	hits=$(dmesg | awk -v m="$marker" 'index($0, m) { buf = ""; next }
		{ buf = buf $0 "\n" } END { printf "%s", buf }' | klog_scan | head -n 30 || true)
	new=$(taint_new "$taint0" "$(< /proc/sys/kernel/tainted)")
	[ -n "$hits" ] && why+=("kernel log reports a problem")
	[ "$new" -ne 0 ] && why+=("new taint $new: $(taint_flags "$new")")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		why+=("timed out after $limit s")
	fi

	if [ ${#why[@]} -eq 0 ] && [ "$rc" -eq 0 ]; then
		ftpx_result PASS "$name"
	elif [ ${#why[@]} -eq 0 ] && [ "$rc" -eq 77 ]; then
		reason=$(sed -n 's/^SKIP: //p' "$log" | tail -n 1)
		ftpx_result SKIP "$name" "${reason:-no reason given}"
	else
		reason=$(printf '; %s' "exit $rc" "${why[@]}")
		ftpx_result FAIL "$name" "${reason#; }"
		if [ -n "$hits" ]; then
			echo "  kernel log:"
			printf '%s\n' "$hits" | sed 's/^/  | /'
		fi
		if [ -n "$leaks" ]; then
			echo "  kmemleak (first 30 lines):"
			printf '%s\n' "$leaks" | head -n 30 | sed 's/^/  | /'
		fi
		if [ -s "$log" ]; then
			echo "  output (last 30 lines of ${FTPX_OUT_HOST:-$FTPX_OUT}/cases/$name.log):"
			tail -n 30 "$log" | sed 's/^/  > /'
		else
			echo "  (no output)"
		fi
	fi
	return 0
}
