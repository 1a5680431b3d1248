#!/usr/bin/env bash
# A TLS session crosses nf_ftpx byte for byte: the control connection (and
# the data connections) are captured in the client's and in the server's
# namespace, on both sides of the DNAT router, and each direction's TCP
# payload stream must be identical on both sides. A plain FTP session through
# the same router is the control: its 227 is rewritten, so the
# server->client stream differs (and only that one).
#
#   client 198.51.100.2 --[tcpdump]-- r (DNAT, nf_ftpx) --[tcpdump]-- server 192.168.1.2
#
# vsftpd without pasv_address: explicit TLS on 21 (curl), implicit TLS on
# 990 (lftp, EPSV), plain FTP on 2121 (curl PASV, 227 rewritten to the WAN
# address). Streams: tests/lib/tools/pcapstream.py (no tshark needed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/ftp.sh"

CTL=$FTPX_TOP/userspace/ftpxctl
PCAPSTREAM=$FTPX_LIBDIR/tools/pcapstream.py
PASV=50000-50009
server_available vsftpd || skip "vsftpd not installed"
require_cmd curl lftp tcpdump
[ -x "$CTL" ] || skip "userspace/ftpxctl not built"

ftpx_load || fail "cannot load nf_ftpx"
topo_setup c
router_rules_nft ftpx --ports "21 990 2121" --final reject || fail "ruleset"
# closed control connections stay listed long enough to be read
on r sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_close=60
topo_diagram
on r "$CTL" server set "$S_ADDR4" pasv "$PASV" || fail "ftpxctl server set"
server_start vsftpd --family 4 --tls explicit --port 21 --pasv "$PASV" || fail "vsftpd explicit"
server_start vsftpd --family 4 --tls implicit --port 990 --pasv "$PASV" || fail "vsftpd implicit"
server_start vsftpd --family 4 --tls none --port 2121 --pasv "$PASV" || fail "vsftpd plain"

tmp=$(ftpx_tmpdir)
# capture CTX: tcpdump on eth0 of c or s, in the background
declare -A CAP_PID=()
capture() {
	local role=$1
	ip netns exec "$(ns_of "$role")" tcpdump -i eth0 -s 0 -U -n -w "$tmp/$role.pcap" tcp \
		2>"$tmp/$role.tcpdump" &
	CAP_PID[$role]=$!
	cleanup_push "kill ${CAP_PID[$role]}"
}
_listening_cap() { grep -q 'listening on' "$tmp/$1.tcpdump"; }
capture c
capture s
busywait 20000 _listening_cap c || fail "tcpdump in [c] did not start: $(cat "$tmp/c.tcpdump")"
busywait 20000 _listening_cap s || fail "tcpdump in [s] did not start: $(cat "$tmp/s.tcpdump")"

s0=$(on r "$CTL" stats)
ftp_xfer curl get -4 --tls explicit --port 21 --mode pasv --pasv-addr ignore --file 64k.bin
check_xfer --got "$S_ADDR4"
ftp_xfer lftp put -4 --tls implicit --port 990 --mode epsv --file 64k.bin
check_xfer
ftp_xfer curl get -4 --tls none --port 2121 --mode pasv --file 64k.bin
# plain FTP: the helper rewrites the server's private address
check_xfer --got "$S_PUB4"
s1=$(on r "$CTL" stats)
sess=$(on r "$CTL" sessions | grep -v '^mode=data')
echo "$sess"
# mode_of PORT: the mode of the control session to server port PORT
mode_of() { awk -v p="dport=$1 " 'index($0, p) { sub(/^mode=/, "", $1); print $1; exit }' <<<"$sess"; }
check_eq "ftpxctl sessions: explicit TLS session (21)" "$(mode_of 21)" explicit-tls
check_eq "ftpxctl sessions: implicit TLS session (990)" "$(mode_of 990)" implicit-tls
check_eq "ftpxctl sessions: plain FTP session (2121)" "$(mode_of 2121)" plain
check "ftpxctl sessions: the plain session made 1 expectation and 1 rewrite" \
	grep -q '^mode=plain expects=1 rewrites=1 .*dport=2121 ' <<<"$sess"
delta() {
	local a b
	a=$(awk -v n="$1" '$1 == n { print $2 }' <<<"$s0")
	b=$(awk -v n="$1" '$1 == n { print $2 }' <<<"$s1")
	echo $((${b:-0} - ${a:-0}))
}
check_eq "stats: one explicit TLS session" "$(delta tls_explicit)" 1
check_eq "stats: one implicit TLS session" "$(delta tls_implicit)" 1
check_eq "stats: one rewrite (the plain session's 227)" "$(delta rewrites)" 1

# Every TCP connection is over on both ends before the captures stop, so
# both have seen the last byte.
_quiet() {
	local r
	for r in c s; do
		[ -z "$(on "$r" ss -Htn state established state syn-sent state syn-recv \
			state fin-wait-1 state fin-wait-2 state close-wait state last-ack state closing)" ] ||
			return 1
	done
}
busywait 15000 _quiet || echo "NOTE: connections still open: $(on s ss -Htn)"
for r in c s; do
	kill -INT "${CAP_PID[$r]}"
	_gone() { ! kill -0 "${CAP_PID[$r]}" 2>/dev/null; }
	busywait 10000 _gone || fail "tcpdump in [$r] did not stop"
	wait "${CAP_PID[$r]}" 2>/dev/null
	tail -n 3 "$tmp/$r.tcpdump"
done

for r in c s; do
	"$FTPX_PYTHON" "$PCAPSTREAM" "$tmp/$r.pcap" --dump "$tmp/streams-$r" >"$tmp/$r.streams" ||
		fail "pcapstream $r.pcap"
	echo "--- streams seen in [$r] (client port, server port, per direction: length, sha256)"
	cat "$tmp/$r.streams"
done
_no_gaps() { ! grep -q gaps= "$tmp/c.streams" "$tmp/s.streams"; }
check "captures are complete (no gaps)" _no_gaps

# line_for SIDE SPORT [N]: the Nth connection (default 1st) to server port SPORT
line_for() { awk -v p="$2" -v n="${3:-1}" '$2 == p && ++k == n' "$tmp/$1.streams"; }
# the control connections, TLS: both directions identical on both sides
for p in 21 990; do
	c=$(line_for c $p) s=$(line_for s $p)
	check "TLS control connection (port $p) captured on both sides" test -n "$c" -a -n "$s"
	check_eq "TLS control connection (port $p): client->server and server->client bytes identical on both sides" \
		"$s" "$c"
	set -- $c
	check "TLS control connection (port $p): streams are not trivially short ($4 and $7 bytes)" \
		test "${4:-0}" -gt 500 -a "${7:-0}" -gt 500
done
_starts_auth() { head -c 8 "$tmp/streams-c/$(awk '{print $1 "-" $2}' <<<"$(line_for c 21)").c2s" | grep -E -q '^AUTH (TLS|SSL)'; }
check "the explicit session starts in cleartext with AUTH TLS|SSL" _starts_auth

# the data connections (TLS, PROT P, and the plain one): all identical
ndata=0
while read -r cp sp rest; do
	case $sp in 21 | 990 | 2121) continue ;; esac
	ndata=$((ndata + 1))
	check_eq "data connection $cp->$sp: identical on both sides" \
		"$(awk -v c="$cp" -v s="$sp" '$1 == c && $2 == s' "$tmp/s.streams")" "$cp $sp $rest"
done <"$tmp/c.streams"
check_eq "three data connections captured" "$ndata" 3

# the control: plain FTP through the NAT helper is rewritten
c=$(line_for c 2121) s=$(line_for s 2121)
set -- $c
cs=("$@")
set -- $s
check_eq "plain control connection: client->server identical (no address in PASV)" "${cs[*]:2:3}" "${*:3:3}"
check "plain control connection: server->client differs (227 rewritten)" test "${cs[7]:-x}" != "${8:-x}"
key="${cs[0]}-${cs[1]}"
grep -a '^227' "$tmp/streams-s/$key.s2c" | sed 's/^/      server sent:   /'
grep -a '^227' "$tmp/streams-c/$key.s2c" | sed 's/^/      client got:    /'
check "plain control: the server sent its own address (192,168,1,2)" \
	grep -a -q '^227 .*192,168,1,2,' "$tmp/streams-s/$key.s2c"
check "plain control: the client got the WAN address (198,51,100,1)" \
	grep -a -q '^227 .*198,51,100,1,' "$tmp/streams-c/$key.s2c"
test_done
