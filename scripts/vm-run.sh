#!/usr/bin/env bash
# Usage: vm-run.sh [--timeout SEC] [--out DIR] KVER SCRIPT [ARGS...]
#
# Boot Debian kernel KVER under qemu (TCG; the host kernel cannot load modules)
# with the host's / as the guest's root (read-only 9p + tmpfs overlay), run
# SCRIPT ARGS... there as root from the top of this repository, and stream its
# output here. FTPX_* variables are passed through to the guest.
#
# Exit status: SCRIPT's own (0 pass, 77 skip, else fail), except that the run
# fails (1) when the guest's kernel log shows a warning, BUG, oops, lockdep or
# sanitizer report, or the kernel picked up a taint other than O/E (our
# out-of-tree, unsigned module) while SCRIPT ran. 124: the guest did not finish
# within --timeout (default 1200 s). 125: the VM never reported a status.
#
# DIR (default build/KVER/vm-out, or a fresh vm-out-XXXXXX beside it while
# another run uses that) receives console.log (ttyS0: kernel console),
# output.log, dmesg.txt, status, taint.before/after and whatever SCRIPT writes
# to $FTPX_OUT (it is /ftpx-out in the guest).
#
# A kernel that is not a Debian package (the debug kernel of
# scripts/test-debug.sh) boots with FTPX_KERNEL_IMAGE=its bzImage; its modules
# must be installed in /lib/modules/KVER. FTPX_VM_MEM (MiB, default 1024) and
# FTPX_VM_APPEND (extra kernel command line) serve kernels that need more.
# FTPX_VM_SMP (vCPUs, default 2) and FTPX_VM_CPU (qemu CPU model, default
# qemu64; "max" gives the guest RDRAND, which seeds the random pool at boot on
# a kernel without virtio-rng). Under TCG each vCPU is a host thread: guests
# whose vCPUs together outnumber the host's cores spin on locks held by
# preempted vCPUs, so guests run side by side get one vCPU each (tests/run.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=SCRIPTDIR/vm/klog.sh
. "$top/scripts/vm/klog.sh"

timeout=1200 out=
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) timeout=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "vm-run: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || { sed -n '2p' "$0" | sed 's/^# //' >&2; exit 2; }
kver=$1 script=$2
shift 2
kernel=${FTPX_KERNEL_IMAGE:-/boot/vmlinuz-$kver}
[ -f "$kernel" ] || { echo "vm-run: no $kernel" >&2; exit 2; }
# A path runs as given from the caller's directory; a bare name is a command.
case "$script" in
*/*) script=$(cd "$(dirname "$script")" && pwd)/${script##*/} ;;
esac

# Several people share a tree: a run locks its output directory, and a run
# left to the default one takes a fresh directory when the default is busy.
lock_out() {
	mkdir -p "$(dirname "$1")"
	exec {lock}>> "$1.lock"
	flock -n "$lock"
}
if [ -n "$out" ]; then
	lock_out "$out" || { echo "vm-run: $out is in use by another run" >&2; exit 2; }
else
	out=$top/build/$kver/vm-out
	lock_out "$out" || out=$(mktemp -d "$out-XXXXXX")
fi
# Only ever wipe a directory this script made.
if [ -e "$out" ]; then
	if [ -e "$out/.ftpx-vm-out" ]; then
		rm -rf "$out"
	elif [ -n "$(ls -A "$out")" ]; then
		echo "vm-run: $out is not empty and not a vm-run output directory" >&2
		exit 2
	fi
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
touch "$out/.ftpx-vm-out"

initrd=$("$top/scripts/vm/mkinitramfs.sh" "$kver")

# What the guest runs: guest-init.sh reads these from the results share.
echo "$top/scripts/vm/guest-init.sh" > "$out/init-path"
{
	printf 'FTPX_TOP=%q\n' "$top"
	printf 'export FTPX_OUT_HOST=%q\n' "$out" # for messages that name a file
	printf 'FTPX_CMD=('; printf ' %q' "$script" "$@"; printf ' )\n'
	for v in "${!FTPX_@}"; do
		case "$v" in FTPX_TOP | FTPX_OUT | FTPX_OUT_HOST | FTPX_CMD) continue ;; esac
		printf 'export %s=%q\n' "$v" "${!v}"
	done
} > "$out/cmd.sh"

tmp=$(mktemp -d)
fifo=$tmp/stream
mkfifo "$fifo"
qemu_pid='' reader_pid=''
cleanup() {
	# (|| true: under set -e a failed kill, of a process already gone, would
	# end the trap early)
	if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null || true; fi
	if [ -n "$reader_pid" ]; then kill "$reader_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Relay the guest's ttyS1 line by line; its first line says the guest is up.
t0=${EPOCHREALTIME/./}
relay() {
	local line up=
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		if [ -z "$up" ] && [[ "$line" == "@@ftpx-up "* ]]; then
			up=$((${EPOCHREALTIME/./} - t0))
			up=$(printf '%d.%d' $((up / 1000000)) $((up % 1000000 / 100000)))
			echo "$up" > "$out/boot-seconds"
			echo "vm-run: $kver booted in $up s (guest uptime ${line#@@ftpx-up } s)"
			continue
		fi
		printf '%s\n' "$line"
	done < "$fifo"
}
relay &
reader_pid=$!

p9=security_model=none,multidevs=remap
timeout -k 10 "$timeout" qemu-system-x86_64 \
	-accel tcg -cpu "${FTPX_VM_CPU:-qemu64}" -m "${FTPX_VM_MEM:-1024}" -smp "${FTPX_VM_SMP:-2}" -nographic -no-reboot -nic none -vga none -monitor none \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=1 log_buf_len=16M${FTPX_VM_APPEND:+ $FTPX_VM_APPEND}" \
	-virtfs "local,path=/,mount_tag=hostroot,readonly=on,$p9" \
	-virtfs "local,path=${out//,/,,},mount_tag=ftpxout,$p9" \
	-serial "file:${out//,/,,}/console.log" \
	-serial "file:${fifo//,/,,}" &
qemu_pid=$!
qrc=0
wait "$qemu_pid" || qrc=$?
qemu_pid=
# If qemu died before opening the stream, the relay still waits in open():
# a read-write open of the fifo neither blocks nor leaves a writer behind.
exec {unblock}<>"$fifo"
exec {unblock}>&-
wait "$reader_pid" || true
reader_pid=

tail_console() {
	echo "vm-run: last lines of the console ($out/console.log):"
	tail -n "${1:-40}" "$out/console.log" | sed 's/^/  | /'
}
if [ ! -f "$out/status" ]; then
	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		echo "vm-run: FAIL: $kver: guest still running after $timeout s, killed"
		rc=124
	else
		echo "vm-run: FAIL: $kver: the VM stopped (qemu status $qrc) without reporting a status"
		rc=125
	fi
	tail_console 60
	{ klog_scan < "$out/console.log" || true; } | head -n 20 | sed 's/^/vm-run: kernel log: /'
	exit "$rc"
fi

rc=$(< "$out/status")
bad=
# (|| true: with pipefail, head closing the pipe early must not hide a hit)
hits=$(klog_scan < "$out/dmesg.txt" | head -n 40 || true)
if [ -n "$hits" ]; then
	echo "vm-run: FAIL: $kver: the kernel log shows:"
	printf '%s\n' "$hits" | sed 's/^/vm-run: kernel log: /'
	bad=1
fi
if [ -s "$out/kmemleak.txt" ]; then
	echo "vm-run: FAIL: $kver: kmemleak found unreferenced objects ($out/kmemleak.txt):"
	head -n 40 "$out/kmemleak.txt" | sed 's/^/vm-run: kmemleak: /'
	bad=1
fi
new=$(taint_new "$(< "$out/taint.before")" "$(< "$out/taint.after")")
if [ "$new" -ne 0 ]; then
	echo "vm-run: FAIL: $kver: new taint $new ($(taint_flags "$new")) during the run"
	bad=1
fi
if [ -n "$bad" ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; }; then
	rc=1
fi
echo "vm-run: $kver: status $rc; kernel log $out/dmesg.txt; console $out/console.log"
exit "$rc"
