#!/usr/bin/env bash
# examples/stateful-firewall.{nft,iptables,ip6tables}, as a user loads them
# (nft, iptables-nft, iptables-legacy), on a routing firewall without NAT
# whose forward policy drops everything but FTP control connections to the
# server and what helper "ftpx" expects (placement a):
#
#   client 198.51.100.2 -- c0 [r: the example; WAN_IF=c0 LAN_IF=s0] s0 -- server 203.0.113.2
#
# PASV (IPv4), EPSV (IPv6), PORT (IPv4; nft only, the iptables variants'
# active mode is covered by 62-examples-lan), implicit FTPS with the passive
# range gated (ftpxctl server set 203.0.113.2 pasv ...), each through the
# example's RELATED ct helper "ftpx" rule; and, before any FTPS session, a
# port of the range stays closed (the SYN is dropped, not refused).
. "$(dirname "$0")/../lib/runner.sh"
. "$(dirname "$0")/../lib/ftp.sh"
. "$(dirname "$0")/examples-lib.bash"

ex_begin
topo_setup a
# shellcheck disable=SC2034 # read by topo_diagram
R_NOTE[$NS_R]="examples/stateful-firewall.*"
topo_diagram
on r "$EX_CTL" server set "$S_ADDR4" pasv "$EX_PASV" || fail "ftpxctl server set"
# the plain server last: server_got (check_xfer --server-got) reads its log
server_start vsftpd --family 4 --tls implicit --pasv "$EX_PASV" || fail "vsftpd implicit"
server_start vsftpd || fail "vsftpd"
for v in "${EX_VARIANTS[@]}"; do
	ex_load "$NS_R" stateful-firewall "$v" WAN_IF=c0 LAN_IF=s0 \
		SERVER_IP="$S_ADDR4" SERVER_IP6="$S_ADDR6" || fail "$v: stateful-firewall rejected"
	if [ "$v" = nft ]; then
		# Nothing listens on the range between sessions: an open path
		# would be refused at once, a closed one times out.
		rc=0
		ip netns exec "$NS_C" timeout 3 bash -c \
			"exec 3<>/dev/tcp/$S_ADDR4/${EX_PASV%-*}" 2>/dev/null || rc=$?
		check_eq "[$EX_NAME $v] a passive port without an FTPS session is dropped (124: timed out)" "$rc" 124
		ex_xfer "$NS_R" "$v" FORWARD --server-got "$C_PUB4" -- curl put -4 --mode port --port 21 --tls none
	fi
	ex_xfer "$NS_R" "$v" FORWARD -- curl get -4 --mode pasv --port 21 --tls none
	ex_xfer "$NS_R" "$v" FORWARD -- curl get -6 --mode epsv --port 21 --tls none
	ex_xfer "$NS_R" "$v" FORWARD -- curl get -4 --mode pasv --port 990 --tls implicit --file 64k.bin
	ex_reset "$NS_R" "$v"
done
test_done
