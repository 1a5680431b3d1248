#!/usr/bin/env bash
# Guest side of the demo (see scripts/demo.sh). Built from the test library,
# so what it shows is what the tests check.
#
#   client 198.51.100.2 -- [router: DNAT :21 -> 192.168.1.2, nf_ftpx] -- server 192.168.1.2
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export FTPX_VERBOSE=0
. "$top/tests/lib/runner.sh"
. "$top/tests/lib/ftp.sh"
ctl() { on r "$top/userspace/ftpxctl" "$@"; }
say() { printf '\n### %s\n' "$*"; }

ftpx_load || { echo "cannot load nf_ftpx"; exit 1; }
echo "nf_ftpx loaded on $(uname -r): $(modinfo -F description "$ftpx_ko")"

topo_setup c
topo_diagram
router_rules_nft ftpx || exit 1
say "router ruleset (helper attached by an nft ct helper object)"
on r nft list table inet ftpx

# Watch expectations being created on the router while the transfers run.
events=$(ftpx_tmpdir)/expect-events
on r stdbuf -oL conntrack -E expect >"$events" 2>/dev/null &
watcher=$!
cleanup_push "kill $watcher 2>/dev/null"

say "plain FTP, passive: vsftpd behind the router advertises its private address"
server_start vsftpd --family 4 || exit 1
ftp_xfer curl get -4 --mode pasv --file 1m.bin
echo "server sent:     $(server_sent)"
echo "client received: $XFER_GOT"
echo "data connection: $XFER_RELATED (passed the router's 'ct state related ct helper \"ftpx\"' rule)"
echo "sha256 sent:     $(sha256sum <"$XFER_SRC" | cut -c1-64)"
echo "sha256 received: $(sha256sum <"$XFER_DST" | cut -c1-64)"
plain_ok=no
xfer_sha_ok && plain_ok=yes

say "FTPS, explicit TLS: the router cannot read the 227, so nf_ftpx gates the"
echo "server's passive range to this one client for the life of the session"
server_stop_all
ctl server set "$S_ADDR4" pasv 50000-50009
ctl servers
server_start vsftpd --family 4 --tls explicit --pasv 50000-50009 --masq "$S_PUB4" || exit 1
ftp_xfer curl get -4 --mode pasv --tls explicit --file 1m.bin
echo "client received: $XFER_GOT (vsftpd's pasv_address; the TLS bytes were not touched)"
echo "data connection: $XFER_RELATED (admitted by a gate expectation)"
echo "the session as nf_ftpx saw it:"
ctl sessions | grep -v "mode=data" | sed 's/ mark=.*//'
ftps_ok=no
xfer_sha_ok && ftps_ok=yes
echo "sha256 sent:     $(sha256sum <"$XFER_SRC" | cut -c1-64)"
echo "sha256 received: $(sha256sum <"$XFER_DST" | cut -c1-64)"

say "expectations nf_ftpx created (conntrack -E expect on the router)"
kill "$watcher" 2>/dev/null
grep "NEW.*class=0" "$events" | head -n 1
grep "NEW.*class=1" "$events" | head -n 1
echo "... $(grep -c "NEW.*class=0" "$events") data expectation(s) from the 227 of the plain session,"
echo "    $(grep -c "NEW.*class=1" "$events") passive-range gates (one per port) for the FTPS session's client only"

say "helper counters (ftpxctl stats)"
ctl stats | awk '$2 != 0'

say "result"
echo "plain FTP through NAT: $plain_ok    FTPS through NAT: $ftps_ok"
[ "$plain_ok" = yes ] && [ "$ftps_ok" = yes ]
