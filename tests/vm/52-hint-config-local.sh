#!/usr/bin/env bash
# ftpxd's other duties: the per-server config it pushes to nf_ftpx, its
# reload on SIGHUP (a bad file is refused and the running config stays),
# lost ctnetlink events (ENOBUFS) recovered by a resync, and local mode.
#
#   client 198.51.100.2 -- c0 [r: DNAT 21 -> server; ftpxd] s0 -- server 192.168.1.2
#
# 1. The config names server 192.168.1.2 with a passive range, a masquerade
#    address and an internal prefix; an entry set by hand before ftpxd
#    starts is removed (sync-servers = yes). FTPS then works through the
#    passive-range gates alone, with no agent: the range ftpxd pushed is
#    what lets the data connection in.
# 2. The event socket has a 4 KiB buffer: the 64 gate expectations of that
#    session arrive at once and overflow it; ftpxd counts ENOBUFS, reads the
#    kernel's table again and keeps answering.
# 3. SIGHUP with a changed file: applied. SIGHUP with a bad file: refused
#    with the line and reason, the old entries stay.
# 4. Local mode: an FTPS server on the router itself (vsftpd in [r] on
#    192.168.1.1:21), a client on the server-side network ([s] as a LAN
#    host), and a router input policy that drops unsolicited connections:
#    ftpxd watches the router's own listeners and creates the expectation.
. "$(dirname "$0")/../lib/runner.sh"
. "$(dirname "$0")/../lib/ftp.sh"
. "$(dirname "$0")/hint-lib.bash"

hint_require
ftpx_load || fail "cannot load nf_ftpx"
topo_setup c
router_rules_nft ftpx --ports 21 || fail "ruleset"
hint_router_input
topo_diagram
CTL=$HINT_US/ftpxctl
servers() { on r "$CTL" servers; }

on r "$CTL" server set 192.168.1.99 pasv 1000-1001 || fail "manual entry"
hint_start_ftpxd "netlink-rcvbuf = 4096" \
	"[server $S_ADDR4]" "pasv = 50000-50063" "masq = $S_PUB4" "internal = 10.0.0.0/8" ||
	fail "ftpxd did not start"
check_eq "servers pushed from the config, the hand-made entry gone" "$(servers)" \
	"server $S_ADDR4 pasv 50000-50063 masq $S_PUB4 internal 10.0.0.0/8"

server_start vsftpd --family 4 --tls explicit --pasv 50000-50063 --masq "$S_PUB4" ||
	fail "vsftpd"
ftp_xfer curl get -4 --mode pasv --tls explicit --file 64k.bin
check_xfer
server_stop
gates=$(on r "$CTL" stats | awk '$1 == "gate_expects" { print $2 }')
echo "gate expectations created: $gates"
_resynced() { [ "$(hint_stat resyncs)" -ge 1 ]; }
check "a burst of $gates expectation events overflows the 4 KiB buffer: ENOBUFS, resync" \
	busywait 10000 _resynced
check "ENOBUFS counted" test "$(hint_stat enobufs)" -ge 1
check "ftpxd alive after ENOBUFS" _hint_up
grep -E "ENOBUFS|resync" "$HINT_DLOG" | head -n 3

# ---- reload
cp "$HINT_CONF" "$HINT_DIR/good.conf"
sed -i 's/^pasv = 50000-50063/pasv = 50000-50009/' "$HINT_CONF"
printf '[server 192.168.1.3]\nmasq = %s\n' "$S_PUB4" >>"$HINT_CONF"
kill -HUP "$HINT_DPID"
_reloaded() { [ "$(hint_stat reloads)" -ge 1 ]; }
check "SIGHUP: reloaded" busywait 10000 _reloaded
check_eq "SIGHUP: new entries" "$(servers | sort)" \
	"$(printf 'server %s pasv 50000-50009 masq %s internal 10.0.0.0/8\nserver 192.168.1.3 masq %s' \
		"$S_ADDR4" "$S_PUB4" "$S_PUB4" | sort)"
before=$(servers)
cp "$HINT_CONF" "$HINT_DIR/applied.conf"
sed -i 's/^pasv = 50000-50009/pasv = 50009-50000/' "$HINT_CONF"
kill -HUP "$HINT_DPID"
_refused() { [ "$(hint_stat reload_failed)" -ge 1 ]; }
check "SIGHUP with a bad file: refused" busywait 10000 _refused
reason=$(hint_ctl hints --socket "$HINT_SOCK" | sed -n 's/^reload_error //p')
echo "reason given: $reason"
check "the reason names the line" test -n "$(echo "$reason" | grep -E 'ftpxd.conf:[0-9]+: pasv')"
check_eq "the old entries stay" "$(servers)" "$before"
check "ftpxd alive after the refused reload" _hint_up

# ---- local mode: the FTPS server on the router itself
cp "$HINT_DIR/applied.conf" "$HINT_CONF"
sed -i 's/^\[ftpxd\]$/[ftpxd]\nlocal = yes\ncontrol-ports = 21/' "$HINT_CONF"
on r nft 'add rule inet hint input iifname "s0" ct state new tcp dport != { 21, 990 } counter drop comment "unsolicited-lan"' ||
	fail "input rule"
kill -HUP "$HINT_DPID"
_local() { hint_ctl hints --socket "$HINT_SOCK" | grep -q '^local yes'; }
check "SIGHUP: local mode on" busywait 10000 _local
NS_S=$NS_R server_start vsftpd --family 4 --tls explicit || fail "vsftpd on the router"
dst=$(ftpx_tmpdir)/local-64k.bin
R_S0=$(hint_r_addr)
ftpx_log 1 "+ [s] ftpc.py --host $R_S0 --port 21 --mode epsv --tls explicit get 64k.bin"
ip netns exec "$NS_S" timeout 40 "$FTPX_PYTHON" "$FTPX_LIBDIR/tools/ftpc.py" --host "$R_S0" \
	--port 21 --mode epsv --tls explicit --timeout 10 get 64k.bin "$dst" \
	2>"$HINT_DIR/local-client.log"
check "local mode: FTPS to the router's own server" cmp -s "$dst" "$FTP_ROOT/64k.bin" ||
	tail -n 20 "$HINT_DIR/local-client.log"
NS_S=$NS_R server_stop
grep "local hint" "$HINT_DLOG" | tail -n 2
check "local mode: hint accepted" grep -q "listener seen -> expectation present" "$HINT_DLOG"
hint_ctl hints --socket "$HINT_SOCK" | grep -E '^(latency_ms|watch) '
echo "elapsed: $SECONDS s"
test_done
