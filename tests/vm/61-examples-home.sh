#!/usr/bin/env bash
# examples/home-router-dnat.{nft,iptables}, as a user loads them (nft,
# iptables-nft, iptables-legacy), on a home router that DNATs 21 and 990 to
# an FTP server on its LAN (placement c):
#
#   client 198.51.100.2 -- c0 [r: the example; WAN_IF=c0 LAN_IF=s0] s0 -- server 192.168.1.2
#
# - plain FTP, PASV: the server announces 192.168.1.2, the client must get
#   the router's address (and honours it);
# - implicit FTPS on 990 with the server's passive range given to nf_ftpx
#   (ftpxctl server set 192.168.1.2 pasv ...), as the example's header
#   says: the range is not forwarded, only gated per FTPS client.
# Each data connection must pass the example's RELATED ct helper "ftpx" rule.
. "$(dirname "$0")/../lib/runner.sh"
. "$(dirname "$0")/../lib/ftp.sh"
. "$(dirname "$0")/examples-lib.bash"

ex_begin
topo_setup c
# shellcheck disable=SC2034 # read by topo_diagram
R_NOTE[$NS_R]="examples/home-router-dnat.*"
topo_diagram
on r "$EX_CTL" server set "$S_ADDR4" pasv "$EX_PASV" || fail "ftpxctl server set"
server_start vsftpd --family 4 || fail "vsftpd"
server_start vsftpd --family 4 --tls implicit --pasv "$EX_PASV" --masq "$S_PUB4" || fail "vsftpd implicit"
for v in "${EX_VARIANTS[@]}"; do
	ex_load "$NS_R" home-router-dnat "$v" WAN_IF=c0 LAN_IF=s0 SERVER_IP="$S_ADDR4" ||
		fail "$v: home-router-dnat rejected"
	ex_xfer "$NS_R" "$v" FORWARD --got "$S_PUB4" -- curl get -4 --mode pasv --port 21 --tls none
	ex_xfer "$NS_R" "$v" FORWARD -- curl get -4 --mode pasv --port 990 --tls implicit --file 64k.bin
	ex_reset "$NS_R" "$v"
done
test_done
