#!/usr/bin/env bash
# The guest side of the test suite, run by tests/run.sh through scripts/vm-run.sh
# once per kernel: every tests/vm/*.sh in name order, or only those whose name
# (with or without .sh) matches one of the space-separated globs in FTPX_TESTS.
# Results go to $FTPX_OUT/results, one "PASS|FAIL|SKIP: name" line per case.
set -uo pipefail
# shellcheck source=SCRIPTDIR/runner.sh
. "$(dirname "$0")/runner.sh"

# shellcheck source=SCRIPTDIR/select.sh
. "$(dirname "$0")/select.sh"

mkdir -p "$FTPX_OUT"
: > "$FTPX_OUT/results"
echo "suite: kernel $(uname -r)"
for f in "$FTPX_TOP"/tests/vm/*.sh; do
	ftpx_selected "$f" || continue
	if [ -x "$f" ]; then
		ftpx_run_case "$f"
	else # a case nobody can run must not pass unnoticed
		ftpx_result FAIL "$(basename "$f" .sh)" "not executable"
	fi
done
p=$(grep -c '^PASS:' "$FTPX_OUT/results")
f=$(grep -c '^FAIL:' "$FTPX_OUT/results")
s=$(grep -c '^SKIP:' "$FTPX_OUT/results")
echo "suite: kernel $(uname -r): $p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
