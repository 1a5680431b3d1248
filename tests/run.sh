#!/usr/bin/env bash
# The project's one test command. It installs what is missing (scripts/deps.sh),
# builds the module for every kernel scripts/kernels.sh lists plus the userspace
# tools, runs the host unit tests, proves on one kernel that the harness fails a
# run with a planted kernel warning, then boots each kernel once under qemu to
# run the suite of tests/vm/*.sh (tests/lib/suite.sh). Every step and case
# prints one PASS/FAIL/SKIP line; the last line totals them, and the exit status
# is non-zero if anything failed.
#
# Environment: FTPX_TESTS="glob ..." runs only the matching tests/vm cases;
# FTPX_KERNELS="glob ..." only the matching kernels; FTPX_BENCH_PARTS (the
# benchmark smoke's parts, scripts/bench.sh); FTPX_CASE_TIMEOUT (s, per
# case; default 300, 600 side by side) and FTPX_VM_TIMEOUT (s, per boot;
# default 2700, 4200 side by side); FTPX_VM_PARALLEL=0 runs the kernels one
# after the other; FTPX_VM_SMP (vCPUs of the side-by-side guests, default
# 1); MAKE.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
make=${MAKE:-make}
logs=$top/build/test-logs
mkdir -p "$logs"

# shellcheck source=tests/lib/tally.sh
. "$top/tests/lib/tally.sh"

# step NAME CMD...: run a build step with its output shown; one result.
step() {
	local name=$1 rc=0
	shift
	echo "== $name"
	"$@" || rc=$?
	if [ $rc -eq 0 ]; then result PASS "$name"; else result FAIL "$name (exit $rc)"; fi
	return $rc
}

# matches WORD "GLOB ...": an unset/empty glob list matches everything.
matches() {
	local g globs
	[ -z "$2" ] && return 0
	read -ra globs <<< "$2"
	for g in "${globs[@]}"; do
		# shellcheck disable=SC2053 # $g is a glob on purpose
		[[ $1 == $g ]] && return 0
	done
	return 1
}

# The harness must fail a case and a run that set off a kernel warning. The
# guest half (tests/warnmod/planted.sh) plants one inside a runner case and
# exits 0; each grep below is one detection that has to have fired.
planted_warning() {
	local k=$1 out=$top/build/$1/vm-planted log=$logs/planted-$1.log rc=0 miss=()
	scripts/vm-run.sh --timeout 300 --out "$out" "$k" tests/warnmod/planted.sh > "$log" 2>&1 || rc=$?
	[ $rc -eq 1 ] || miss+=("vm-run exit $rc, want 1")
	grep -q '^planted: runner flagged the kernel log' "$log" || miss+=("runner missed the log")
	grep -q '^planted: runner flagged the taint' "$log" || miss+=("runner missed the taint")
	grep -q '^vm-run: kernel log: .*WARNING: .*warnmod' "$log" || miss+=("vm-run missed the log")
	grep -q '^vm-run: FAIL: .*new taint 512 (W)' "$log" || miss+=("vm-run missed the taint")
	if [ ${#miss[@]} -eq 0 ]; then
		result PASS "harness: a planted kernel warning fails the case and the run ($k)"
	else
		result FAIL "harness: a planted kernel warning fails the case and the run ($k): $(printf '%s; ' "${miss[@]}")"
		sed 's/^/  | /' "$log"
	fi
}

step "deps" scripts/deps.sh
step "build: make all-kernels" "$make" -C "$top" all-kernels
step "build: make userspace" "$make" -C "$top" userspace
# DKMS must run before the VMs boot: 60-dkms loads what it builds.
step "dkms: add, build, install, remove for each kernel (scripts/dkms-test.sh)" scripts/dkms-test.sh
step "debian: packages build, lintian (scripts/build-debs.sh)" scripts/build-debs.sh

echo "== unit tests"
rc=0
"$make" -C "$top" unit 2>&1 | tee "$logs/unit.log" || rc=$?
tally "$logs/unit.log" "unit: "
if [ $rc -ne 0 ] && ! grep -q '^FAIL:' "$logs/unit.log"; then
	result FAIL "unit: make unit (exit $rc)"
fi

# The parser's fuzz target, bounded: CI is a smoke run, the long runs are
# `make fuzz SECONDS=1800` (see tests/fuzz/Makefile).
step "fuzz: parser, ${FTPX_FUZZ_SECONDS:-60} s, no finding" \
	"$make" -s -C "$top/tests/fuzz" run SECONDS="${FTPX_FUZZ_SECONDS:-60}"

kernels=()
for k in $(scripts/kernels.sh); do
	matches "$k" "${FTPX_KERNELS:-}" && kernels+=("$k")
done
[ ${#kernels[@]} -gt 0 ] || result FAIL "no kernel to test (image + headers installed, FTPX_KERNELS=${FTPX_KERNELS:-})"
for k in "${kernels[@]}"; do
	step "build: warnmod ($k)" scripts/vm/build-warnmod.sh "$k"
done

# The kernels' suites run side by side (FTPX_VM_PARALLEL=0: one after the
# other), each guest with one vCPU. Under TCG a vCPU is a host thread; two
# 2-vCPU guests on two cores spin on guest locks held by preempted vCPUs:
# measured on 30-matrix-cd, two 2-vCPU guests side by side took 136-142 s and
# twice the host CPU of two 1-vCPU guests (75-76 s); one 2-vCPU guest alone
# took 53 s. Each run's output goes to its log and is shown, whole, when it
# is done. Side by side, case and boot limits double. What needs a second CPU
# (concurrent sessions on the per-packet path) runs after them, in a 2-vCPU
# guest alone: the stress and gate-handover cases and the benchmark smoke.
if [ "${FTPX_VM_PARALLEL:-1}" = 1 ]; then
	export FTPX_CASE_TIMEOUT=${FTPX_CASE_TIMEOUT:-600}
	vm_timeout=${FTPX_VM_TIMEOUT:-4200}
	suite_smp=${FTPX_VM_SMP:-1}
else
	vm_timeout=${FTPX_VM_TIMEOUT:-2700}
	suite_smp=${FTPX_VM_SMP:-2}
fi
suite_run() {
	local k=$1 out=$top/build/$1/vm-suite rc=0
	FTPX_VM_SMP=$suite_smp scripts/vm-run.sh --timeout "$vm_timeout" --out "$out" "$k" tests/lib/suite.sh || rc=$?
	echo "$rc" > "$out.rc"
}

if [ ${#kernels[@]} -gt 0 ]; then
	echo "== harness self-test on ${kernels[0]}"
	planted_warning "${kernels[0]}"
fi
pids=()
for k in "${kernels[@]}"; do
	rm -f "$top/build/$k/vm-suite.rc"
	if [ "${FTPX_VM_PARALLEL:-1}" = 1 ]; then
		echo "== tests in a VM running $k: started (log $logs/vm-$k.log)"
		suite_run "$k" > "$logs/vm-$k.log" 2>&1 &
		pids+=($!)
	else
		echo "== tests in a VM running $k"
		suite_run "$k" 2>&1 | tee "$logs/vm-$k.log"
	fi
done
[ ${#pids[@]} -gt 0 ] && wait "${pids[@]}"
boots=()
for k in "${kernels[@]}"; do
	out=$top/build/$k/vm-suite
	if [ "${FTPX_VM_PARALLEL:-1}" = 1 ]; then
		echo "== tests in a VM running $k"
		cat "$logs/vm-$k.log"
	fi
	vm_tally "$out" "$(cat "$out.rc" 2>/dev/null || echo 99)" "[$k]"
	[ -f "$out/boot-seconds" ] && boots+=("$k $(< "$out/boot-seconds") s")
done

# Concurrency on two vCPUs: the suites' guests above have one each, so the
# cases that drive many sessions at once (aborts, resets, unload under load,
# gate handover between sessions) run again on the newest kernel in a 2-vCPU
# guest of their own. FTPX_SMP_TESTS="" skips it.
smp_tests=${FTPX_SMP_TESTS-71-* 75-*}
if [ ${#kernels[@]} -gt 0 ] && [ -n "$smp_tests" ] && [ "$suite_smp" != 2 ]; then
	k=${kernels[${#kernels[@]}-1]}
	out=$top/build/$k/vm-smp2
	echo "== tests in a 2-vCPU VM running $k: $smp_tests"
	src=0
	FTPX_TESTS=$smp_tests FTPX_VM_SMP=2 scripts/vm-run.sh --timeout "$vm_timeout" --out "$out" "$k" \
		tests/lib/suite.sh > "$logs/vm-smp2-$k.log" 2>&1 || src=$?
	cat "$logs/vm-smp2-$k.log"
	vm_tally "$out" "$src" "[$k 2 vCPUs]"
fi

# Benchmarks are not timed tests: CI only checks that the parts run and the
# table prints (short runs, nothing judged), in a 2-vCPU guest of its own
# after the suites. The smoke runs the parser, session setup and hint parts;
# `make bench` is the full run (all parts) that writes docs/bench.md.
bench_parts=${FTPX_BENCH_PARTS:-parse,sessions,hints}
if [ ${#kernels[@]} -gt 0 ] && [ -n "$bench_parts" ]; then
	brc=0
	echo "== bench smoke (parts $bench_parts) on ${kernels[0]}"
	FTPX_VM_SMP=2 FTPX_BENCH_PARTS=$bench_parts scripts/bench.sh --quick --out "$top/build/bench-quick" \
		"${kernels[0]}" > "$logs/bench-quick.log" 2>&1 || brc=$?
	cat "$logs/bench-quick.log"
	if [ $brc -eq 0 ]; then
		result PASS "bench: scripts/bench.sh --quick, parts $bench_parts, the table prints"
	else
		result FAIL "bench: scripts/bench.sh --quick, parts $bench_parts (exit $brc)"
	fi
fi

# Comparison tables (nf_ftpx against the in-tree helper and others): cases
# write rows to $FTPX_OUT/tables/NAME.tsv in the guest; the generator turns
# every kernel's rows into docs/NAME.md. The run makes them, nobody types them.
if [ -x scripts/gen-tables.sh ]; then
	step "tables: docs/ generated from this run" scripts/gen-tables.sh "${kernels[@]}"
fi
# The bad-input table: the rows of make unit and of 73-netlink-hammer in
# every kernel's guest become docs/bad-input.md. A run whose FTPX_TESTS left
# out the netlink case has nothing to make it from.
if [ ${#kernels[@]} -gt 0 ] && [ -s "build/${kernels[0]}/vm-suite/badinput/netlink.tsv" ]; then
	step "bad input: docs/bad-input.md generated from this run" scripts/gen-bad-input.sh "${kernels[@]}"
else
	result SKIP "bad input: docs/bad-input.md (73-netlink-hammer did not run)"
fi

echo "== summary"
[ ${#boots[@]} -gt 0 ] && printf 'boot: %s\n' "${boots[@]}"
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
if [ $skip -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ]
