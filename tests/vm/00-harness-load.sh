#!/usr/bin/env bash
# Harness self-test: the guest is what the other cases assume. It runs the
# kernel it was built for, finds that kernel's own modules (modprobe), loads
# and unloads an out-of-tree module, and busywait both succeeds and gives up.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/runner.sh
. "$(dirname "$0")/../lib/runner.sh"

modprobe nf_conntrack
grep -q '^nf_conntrack ' /proc/modules

ko=$FTPX_TOP/build/$(uname -r)/warnmod.ko
insmod "$ko"
[ -d /sys/module/warnmod ]
rmmod warnmod

busywait 1000 test -d /sys/module/nf_conntrack
start=${EPOCHREALTIME/./}
if busywait 300 false; then
	echo "busywait reported success for a command that always fails"
	exit 1
fi
waited=$(((${EPOCHREALTIME/./} - start) / 1000))
echo "busywait 300 false gave up after $waited ms"
[ "$waited" -ge 300 ] && [ "$waited" -lt 3000 ]
