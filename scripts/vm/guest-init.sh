#!/bin/bash
# PID 1 of the test VM once initramfs-init has switched to the overlay root
# (the host's own files). Runs the command vm-run.sh wrote to /ftpx-out/cmd.sh
# from the top of the repository, streams its output to the host on the second
# serial port (ttyS1; ttyS0 is the kernel console), and leaves what the host
# judges the run by in /ftpx-out: status (written last), taint.before,
# taint.after, dmesg.txt, output.log. Then it powers the VM off.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LC_ALL=C.UTF-8
out=/ftpx-out

# PID 1 must never exit (the kernel would panic); whatever happens, power off.
power_off() {
	sync
	echo 1 > /proc/sys/kernel/sysrq
	echo o > /proc/sysrq-trigger
	while :; do sleep 60; done # sysrq-o powers off asynchronously
}
trap power_off EXIT

stream=/dev/ttyS1
stty -F "$stream" raw -echo 2>/dev/null
exec 3> "$stream"
# First line on the stream: vm-run.sh takes its arrival as "booted".
read -r up _ < /proc/uptime
echo "@@ftpx-up $up" >&3

# shellcheck source=/dev/null
. "$out/cmd.sh" # FTPX_TOP, FTPX_CMD=(script args...), forwarded FTPX_* variables
hostname ftpx-vm
# Servers (proftpd) resolve their own name at start; the host's hosts file
# does not know the guest's.
echo "127.0.1.1 ftpx-vm" >> /etc/hosts
ip link set lo up
# A task stuck in the kernel shows as a hung-task report (a failure) after a
# minute rather than Debian's two, well inside a case's time limit.
echo 60 > /proc/sys/kernel/hung_task_timeout_secs
export FTPX_OUT=$out

cat /proc/sys/kernel/tainted > "$out/taint.before"
(cd "$FTPX_TOP" && exec "${FTPX_CMD[@]}") < /dev/null 2>&1 | tee "$out/output.log" >&3
status=${PIPESTATUS[0]}
# A debug kernel's last leak scan: what the run leaked outside every case.
# Its "suspected memory leaks" line lands in dmesg.txt for vm-run.sh to see.
. "$FTPX_TOP/scripts/vm/klog.sh"
kmemleak_check > "$out/kmemleak.txt"
cat /proc/sys/kernel/tainted > "$out/taint.after"
dmesg > "$out/dmesg.txt"
echo "$status" > "$out/status"
