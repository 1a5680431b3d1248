#!/usr/bin/env bash
# FTPS through a DNAT router with no passive range anywhere: the servers
# pick their default random passive ports, ftpx-agent in the server's
# namespace sees each passive listener and sends ftpxd on the router a
# signed UDP hint over the server-side link, and ftpxd creates the exact
# expectation (class ftpx-hint, NAT following the master). vsftpd and
# proftpd, explicit and implicit TLS, and one IPv6 session. A transfer
# without the agent fails first: the hints are what make the others work.
#
#   client 198.51.100.2 -- c0 [r: DNAT 21,990; ftpxd udp 192.168.1.1:4021] s0
#                                   -- server 192.168.1.2 (ftpx-agent)
#
# The router drops unsolicited connections to its own address (a WAN
# input policy), so a data connection with no expectation is dropped, not
# reset: a client whose first SYN beats the hint retransmits it (after 1 s).
# Printed: hint latency per transfer (agent saw the listener -> ftpxd
# answered that the expectation is in the kernel), how often the client's
# first SYN still lost that race (in an emulated guest, usually: the client
# is microseconds away), and the same with 40 ms between router and client.
. "$(dirname "$0")/../lib/runner.sh"
. "$(dirname "$0")/../lib/ftp.sh"
. "$(dirname "$0")/hint-lib.bash"

hint_require
ftpx_load || fail "cannot load nf_ftpx"
topo_setup c
router_rules_nft ftpx || fail "ruleset"
hint_router_input
topo_diagram
hint_start_ftpxd || fail "ftpxd did not start"

# without hints: the data connection has nowhere to go
server_start vsftpd --family 4 --tls explicit --masq "$S_PUB4" || fail "vsftpd explicit"
server_start vsftpd --family 4 --tls implicit || fail "vsftpd implicit"
if ftp_xfer curl get -4 --mode pasv --tls explicit --port 21 --file 1k.bin --timeout 8; then
	check "no agent: transfer must fail" false
else
	check "no agent: data connection blocked" true
fi

hint_start_agent || fail "ftpx-agent did not start"
drops0=$(hint_unsolicited)

# xfer SERVER TLS: one download through the hint path. Explicit: PASV with
# the public address configured in the server; implicit: EPSV, no address
# at all. Python ftplib: its data connection has its own timeout, so a
# first SYN that beat the hint is simply retransmitted (curl counts the
# login against --connect-timeout, which a loaded emulated guest can eat)
n=0
xfer() {
	local srv=$1 tls=$2 mode=epsv port=990 before
	[ "$tls" = explicit ] && mode=pasv port=21
	before=$(hint_stat accepted)
	ftp_xfer ftplib get -4 --mode "$mode" --tls "$tls" --port "$port" --file 64k.bin
	check_xfer
	check "$srv $tls: ftpxd accepted a hint" test "$(hint_stat accepted)" -gt "$before"
	n=$((n + 1))
}
xfer vsftpd explicit
xfer vsftpd implicit
server_stop_all

# proftpd resolves the host name for its address unless given one (the
# guest's name is in no hosts file)
if server_start proftpd --tls explicit --masq "$S_PUB4" --conf "DefaultAddress $S_ADDR4"; then
	server_start proftpd --tls implicit --conf "DefaultAddress $S_ADDR4" ||
		fail "proftpd implicit"
	xfer proftpd explicit
	xfer proftpd implicit
else
	[ $? -eq 77 ] || fail "proftpd explicit"
	echo "SKIP: proftpd not available"
fi

hint_latency_report
echo "data SYNs dropped before their expectation was there: $(($(hint_unsolicited) - drops0)) in $n transfers"
check "every accepted hint was consumed by a data connection or is pending" \
	test "$(($(hint_stat consumed) + $(hint_stat pending)))" -ge "$n"
check "no hint refused" test "$(hint_stat refused)" -eq 0

# IPv6, and the race as an Internet client sees it: 40 ms between router
# and client (when sch_netem is there)
if [ ${#SERVER_PIDS[@]} -gt 0 ]; then
	netem=no
	modprobe sch_netem 2>/dev/null && on r tc qdisc add dev c0 root netem delay 40ms &&
		netem=yes
	d0=$(hint_unsolicited)
	before=$(hint_stat accepted)
	ftp_xfer ftplib get -6 --mode epsv --tls explicit --port 21 --file 64k.bin
	check_xfer
	check "proftpd explicit over IPv6: ftpxd accepted a hint" \
		test "$(hint_stat accepted)" -gt "$before"
	if [ $netem = yes ]; then
		on r tc qdisc del dev c0 root
		echo "with 40 ms to the client: data SYNs dropped before the expectation: $(($(hint_unsolicited) - d0)) of 1"
	fi
	grep 'accepted in' "$HINT_ALOG" | tail -n 1
fi
on r "$FTPX_TOP/userspace/ftpxctl" hints --socket "$HINT_SOCK" |
	sed -n '/^received/,/^resyncs/p' | grep -v ' 0$'
echo "elapsed: $SECONDS s"
test_done
