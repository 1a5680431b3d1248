#!/usr/bin/env bash
# examples/cloud-1to1-nat.{nft,iptables,ip6tables}, as a user loads them
# (nft, iptables-nft, iptables-legacy), as the own firewall of a cloud host
# that runs the FTP server and sits behind its provider's 1:1 NAT. The router
# plays the provider: it maps 198.51.100.1 <-> 192.168.1.2 and knows nothing
# about FTP (no helper, no filter):
#
#   client 198.51.100.2 -- c0 [r: 1:1 NAT only] s0 -- server 192.168.1.2 (the example)
#
# - plain FTP, PASV: vsftpd announces 192.168.1.2; nf_ftpx on the host must
#   rewrite it to the masquerade address 198.51.100.1, configured with
#   `ftpxctl server set 192.168.1.2 masq ... internal ...` (nft and
#   iptables-nft) or with the module options masq=/internal=/pasv=
#   (iptables-legacy): both ways the example's header documents;
# - implicit FTPS on 990, the passive range gated by the host's nf_ftpx.
# Each data connection must pass the example's RELATED ct helper "ftpx" rule
# in the INPUT chain.
. "$(dirname "$0")/../lib/runner.sh"
. "$(dirname "$0")/../lib/ftp.sh"
. "$(dirname "$0")/examples-lib.bash"

ex_begin
topo_setup c
ip netns exec "$NS_R" nft -f - <<-EOF2 || fail "the provider's 1:1 NAT"
	table ip provider {
		chain pre {
			type nat hook prerouting priority dstnat; policy accept;
			iifname "c0" ip daddr $S_PUB4 dnat to $S_ADDR4
		}
		chain post {
			type nat hook postrouting priority srcnat; policy accept;
			oifname "c0" ip saddr $S_ADDR4 snat to $S_PUB4
		}
	}
EOF2
# shellcheck disable=SC2034 # read by topo_diagram
R_NOTE[$NS_R]="provider's 1:1 NAT $S_PUB4 <-> $S_ADDR4, no helper"
topo_diagram
# the plain server last: server_sent reads its log
server_start vsftpd --family 4 --tls implicit --pasv "$EX_PASV" --masq "$S_PUB4" || fail "vsftpd implicit"
server_start vsftpd --family 4 || fail "vsftpd"
internal=192.168.1.0/24
for v in "${EX_VARIANTS[@]}"; do
	if [ "$v" = ipt-legacy ]; then
		on s "$EX_CTL" flush
		ftpx_unload && ftpx_load masq="$S_PUB4" internal="$internal" pasv="$EX_PASV" ||
			fail "reload nf_ftpx with masq= internal= pasv="
	else
		on s "$EX_CTL" server set "$S_ADDR4" masq "$S_PUB4" internal "$internal" pasv "$EX_PASV" ||
			fail "ftpxctl server set"
	fi
	ex_load "$NS_S" cloud-1to1-nat "$v" PUBLIC_IP="$S_PUB4" PRIVATE_IP="$S_ADDR4" INTERNAL_NET="$internal" ||
		fail "$v: cloud-1to1-nat rejected"
	ex_xfer "$NS_S" "$v" INPUT --got "$S_PUB4" -- curl get -4 --mode pasv --port 21 --tls none
	check_eq "[$EX_NAME $v] vsftpd itself announced its private address" \
		"$(server_sent | cut -d' ' -f2)" "$S_ADDR4"
	ex_xfer "$NS_S" "$v" INPUT -- curl get -4 --mode pasv --port 990 --tls implicit --file 64k.bin
	ex_reset "$NS_S" "$v"
done
test_done
