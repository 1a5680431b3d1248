#!/usr/bin/env bash
# Harness self-test: ftpx_load pulls in the module's dependencies and loads
# nf_ftpx.ko for the running kernel; ftpx_unload removes it again.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/runner.sh
. "$(dirname "$0")/../lib/runner.sh"

[ -f "$ftpx_ko" ] || ftpx_skip "$ftpx_ko not built"
ftpx_load
[ -d /sys/module/nf_ftpx ]
ftpx_unload
[ ! -d /sys/module/nf_ftpx ]
