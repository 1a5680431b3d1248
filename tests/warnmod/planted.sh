#!/usr/bin/env bash
# Guest half of the "planted warning" self-test (tests/run.sh boots a VM just
# for it). A runner case loads warnmod.ko warn=1 and exits 0, so only the
# runner's kernel-log and taint checks can fail it; this script prints which
# of them did. It then exits 0 whatever happened, so vm-run.sh's status can
# only come from vm-run.sh's own checks of the same warning. tests/run.sh
# requires all four verdicts; each one proves one check works.
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/runner.sh
. "$(dirname "$0")/../lib/runner.sh"

tmp=$(mktemp -d)
case=$tmp/planted-warning.sh
printf '#!/bin/sh\nexec insmod %q warn=1\n' "$FTPX_TOP/build/$(uname -r)/warnmod.ko" > "$case"
chmod +x "$case"
# The sub-case's result must not land in the run's own results.
report=$(FTPX_OUT=$tmp/out FTPX_OUT_HOST='' ftpx_run_case "$case")
printf '%s\n' "$report"

if grep -q '^FAIL: planted-warning (exit 0;' <<< "$report"; then
	grep -q 'kernel log reports a problem' <<< "$report" &&
		grep -q '^  | .*WARNING: .*warnmod' <<< "$report" &&
		echo "planted: runner flagged the kernel log"
	grep -q 'new taint 512: W' <<< "$report" &&
		echo "planted: runner flagged the taint"
fi
exit 0
