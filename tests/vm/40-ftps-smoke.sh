#!/usr/bin/env bash
# FTPS through a DNAT router with nf_ftpx passive-range gating: the server's
# passive range is configured with ftpxctl, the control session is explicit
# TLS (AUTH TLS / 234) or implicit (TLS from byte 0 on 990), and the data
# connection must pass a forward policy that only admits RELATED ftpx traffic.
#
#   client 198.51.100.2 -- [r: DNAT 21,990 -> 192.168.1.2] -- server 192.168.1.2
. "$(dirname "$0")/../lib/runner.sh"
. "$(dirname "$0")/../lib/ftp.sh"

ftpx_load || fail "cannot load nf_ftpx"
topo_setup c
router_rules_nft ftpx || fail "ruleset"
topo_diagram
on r "$FTPX_TOP/userspace/ftpxctl" server set "$S_ADDR4" pasv 50000-50009 || fail "ftpxctl server set"

server_start vsftpd --family 4 --tls explicit --pasv 50000-50009 --masq "$S_PUB4" || fail "vsftpd explicit"
ftp_xfer curl get -4 --mode pasv --tls explicit --file 64k.bin
check_xfer
on r "$FTPX_TOP/userspace/ftpxctl" sessions
on r "$FTPX_TOP/userspace/ftpxctl" stats | grep -E "tls|gate"
test_done
