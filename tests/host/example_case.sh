#!/bin/bash
# Template of one test case built on tests/lib: placement c (server behind
# a DNAT router), vsftpd, curl passive and active over IPv4 and IPv6.
#
#   HELPER=ftp  tests/host/example_case.sh     (on the host: in-tree helper)
#   HELPER=ftpx tests/host/example_case.sh     (in the guest, nf_ftpx loaded)
#
# Exit 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/ftp.sh"

HELPER=${HELPER:-ftpx}
[ "$(id -u)" = 0 ] || skip "needs root"
require_cmd nft conntrack curl
server_available vsftpd || skip "vsftpd not installed"
helper_available "$HELPER" || skip "no conntrack helper \"$HELPER\" in this kernel"

topo_setup c
router_rules_nft "$HELPER" || fail "ruleset"
topo_diagram
server_start vsftpd || fail "vsftpd did not start"

# passive: the 227 must carry the router's public address, not 192.168.1.2
ftp_xfer curl get -4 --mode pasv --file 1m.bin
check_xfer --got "$S_PUB4"
check_eq "server sent its own address" "$(server_sent | cut -d' ' -f2)" "$S_ADDR4"

# active: the server must connect back to the client through the router
ftp_xfer curl put -4 --mode port
check_xfer --server-got "$C_PUB4"

ftp_xfer curl get -6 --mode epsv
check_xfer
ftp_xfer curl put -6 --mode eprt
check_xfer --server-got "$C_PUB6"

test_done
