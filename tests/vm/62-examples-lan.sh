#!/usr/bin/env bash
# examples/lan-masquerade-active.{nft,iptables,ip6tables}, as a user loads
# them (nft, iptables-nft, iptables-legacy), on a router that masquerades
# its LAN clients (placement b), in active mode:
#
#   client 10.0.1.2 -- c0 [r: the example; LAN_IF=c0 WAN_IF=s0] s0 -- server 203.0.113.2
#
# PORT (IPv4) and EPRT (IPv6): the server must get the router's public
# address (checked for EPRT with nft only) and reach the client through it;
# the server's connection must pass the example's RELATED ct helper "ftpx"
# rule.
. "$(dirname "$0")/../lib/runner.sh"
. "$(dirname "$0")/../lib/ftp.sh"
. "$(dirname "$0")/examples-lib.bash"

ex_begin
topo_setup b
# shellcheck disable=SC2034 # read by topo_diagram
R_NOTE[$NS_R]="examples/lan-masquerade-active.*"
topo_diagram
server_start vsftpd || fail "vsftpd"
for v in "${EX_VARIANTS[@]}"; do
	ex_load "$NS_R" lan-masquerade-active "$v" WAN_IF=s0 LAN_IF=c0 ||
		fail "$v: lan-masquerade-active rejected"
	ex_xfer "$NS_R" "$v" FORWARD --server-got "$C_PUB4" -- curl put -4 --mode port
	# (the v6 address check costs two Python starts: once is enough)
	got6=()
	[ "$v" = nft ] && got6=(--server-got "$C_PUB6")
	ex_xfer "$NS_R" "$v" FORWARD "${got6[@]}" -- curl get -6 --mode eprt
	ex_reset "$NS_R" "$v"
done
test_done
