#!/usr/bin/env bash
# Guest half of the debug kernel's self-test (scripts/test-debug.sh): one
# runner case per detector loads warnmod.ko with the parameter that plants
# that detector's fault and exits 0, so only the runner's kernel-log, kmemleak
# and taint checks can fail it. Prints "planted: FAULT flagged: WHY" for each
# case the runner failed for the right reason; scripts/test-debug.sh requires
# every one. Exits 0 whatever happened: vm-run.sh's own verdict on the same
# kernel log is the run's status.
#
# Order matters. lockdep switches itself off after its first report, and
# also after any taint that makes it unreliable, which a KASAN report sets
# (add_taint(TAINT_BAD_PAGE, LOCKDEP_NOW_UNRELIABLE)), so the lockdep case
# runs first. KASAN prints only its first report (unless booted with
# kasan_multi_shot), so its case comes last, where no other report can
# stand in for it.
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/runner.sh
. "$(dirname "$0")/../lib/runner.sh"

ko=$FTPX_TOP/build/$(uname -r)/warnmod.ko
tmp=$(mktemp -d)

# planted NAME PARAM WANT: run "insmod warnmod.ko PARAM=1" as a runner case;
# WANT is an ERE the runner's report must contain besides the FAIL line.
planted() {
	local name=$1 param=$2 want=$3 case=$tmp/planted-$1.sh report
	printf '#!/bin/sh\ninsmod %q %s=1 || exit\nexec rmmod warnmod\n' "$ko" "$param" > "$case"
	chmod +x "$case"
	report=$(FTPX_OUT=$tmp/out-$name FTPX_OUT_HOST='' ftpx_run_case "$case")
	printf '%s\n' "$report"
	if grep -q "^FAIL: planted-$name (exit 0;" <<< "$report" &&
		grep -Eq "$want" <<< "$report"; then
		echo "planted: $name flagged: $(grep -Em1 "$want" <<< "$report" | sed 's/^ *[|>] *//')"
	fi
}

planted lockdep abba '^  \| .*WARNING: possible circular locking dependency detected'
planted atomic-sleep sleep '^  \| .*BUG: sleeping function called from invalid context'
planted kmemleak leak '^  \| unreferenced object 0x[0-9a-f]+ \(size 96\)'
planted kasan oob '^  \| .*BUG: KASAN: slab-out-of-bounds in warnmod_'
exit 0
