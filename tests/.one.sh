#!/bin/bash
# run the named cases through the suite runner
cd "$(dirname "$0")/.."
. tests/lib/runner.sh
mkdir -p $FTPX_OUT
for c in "$@"; do ftpx_run_case "$c"; done
