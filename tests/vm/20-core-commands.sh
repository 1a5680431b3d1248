#!/usr/bin/env bash
# Client commands: control-line handling of helper "ftpx" through a NAT router, checked byte for
# byte with a scripted server (fakeftpd.py records exactly what arrives) and a
# raw client that sends each argument as its own TCP segment (rawctl.py).
#
#   b: client 10.0.1.2 -- [r: masquerade 203.0.113.1] -- server 203.0.113.2
#   c: client 198.51.100.2 -- [r: DNAT 198.51.100.1:21] -- server 192.168.1.2
#
# Checks: a PORT split as "PO" + "RT ..." is completed and rewritten; every
# line of a segment is handled; a 227 inside a multi-line reply is text; 227
# and 229 replies are rewritten; each malformed line creates no expectation,
# keeps the control connection alive and leaves the kernel log clean.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/net.sh"
. "$here/../lib/dump.sh"
PY=$FTPX_PYTHON
T=$here/../lib/tools

ftpx_load || fail "cannot load nf_ftpx"
tmp=$(ftpx_tmpdir)

fake_start() { # fake_start LOG [fakeftpd options]
	local log=$1
	shift
	rm -f "$log" "$log.ready"
	ip netns exec "$NS_S" "$PY" "$T/fakeftpd.py" "$(s_addr 4)" 21 "$log" "$@" &
	FAKE_PID=$!
	cleanup_push "kill $FAKE_PID 2>/dev/null"
	busywait 30000 test -e "$log.ready" >/dev/null || fail "fakeftpd did not start"
}
raw() { ip netns exec "$NS_C" "$PY" "$T/rawctl.py" $RAWX "$(s_pub 4)" 21 "$@"; }
RAWX=
expects() { ip netns exec "$NS_R" conntrack -L expect 2>/dev/null | grep -c . ; }
got() { grep -F -- "$1" "$2" >/dev/null; }

# ---- placement b: client behind masquerade, commands rewritten -------------
topo_setup b
topo_diagram
router_rules_nft ftpx

log=$tmp/b.log
fake_start "$log"

ip netns exec "$NS_R" conntrack -F expect 2>/dev/null
out=$(raw "PO" "RT 10,0,1,2,4,1\r\n") || fail "split PORT stalled: $out"
busywait 10000 got "PORT 203,0,113,1," "$log" >/dev/null
check "split PORT (\"PO\" + \"RT ...\") is rewritten to the WAN address" got "PORT 203,0,113,1," "$log"
check "split PORT created an expectation" test "$(expects)" -ge 1

ip netns exec "$NS_R" conntrack -F expect 2>/dev/null
out=$(raw "NOOP\r\nPORT 10,0,1,2,4,3\r\nEPRT |1|10.0.1.2|1029|\r\nport 10,0,1,2,4,7\r\n") ||
	fail "three commands in one segment stalled: $out"
busywait 10000 got "port 203,0,113,1," "$log" >/dev/null
check "2nd line of a segment (PORT) rewritten" got "PORT 203,0,113,1," "$log"
check "3rd line of a segment (EPRT) rewritten" got "EPRT |1|203.0.113.1|" "$log"
check "lower-case port command rewritten" got "port 203,0,113,1," "$log"
check_eq "one expectation per command" "$(expects)" 3

# Bad input: each must pass unchanged, create nothing, keep the connection.
bad=(
	"bounce PORT to a third address|PORT 198,51,100,9,4,1\r\n"
	"PORT to port 25|PORT 10,0,1,2,0,25\r\n"
	"octet 256|PORT 10,0,1,256,4,1\r\n"
	"port 0|PORT 10,0,1,2,0,0\r\n"
	"EPRT port 0|EPRT |1|10.0.1.2|0|\r\n"
	"EPRT family 3|EPRT |3|10.0.1.2|2000|\r\n"
	"70,000-digit number|PORT 10,0,1,2,4,|#70000|\r\n"
	"64 KiB line without newline|@65536|\r\n"
	"NUL bytes|PORT 10,0\x00,1,2,4,1\r\n"
	"lone CR|PORT 10,0,1,\r2,4,1\r\n"
	"interleaved junk|\x16\x03\x01junk\r\nPORT 10,0,1,2,4,x\r\n\xff\xfe\r\n"
)
for b in "${bad[@]}"; do
	name=${b%%|*}
	IFS='|' read -r -a segs <<<"${b#*|}"
	ip netns exec "$NS_R" conntrack -F expect 2>/dev/null
	before=$(wc -l <"$log")
	if out=$(raw "${segs[@]}" 2>&1); then
		check "bad input: $name: control connection stays alive" true
	else
		check "bad input: $name: control connection stays alive ($out)" false
	fi
	check_eq "bad input: $name: no expectation" "$(expects)" 0
	# the server received the line (unchanged: it is not rewritten)
	check "bad input: $name: the line reached the server" test "$(wc -l <"$log")" -gt "$before"
done
check "bad input: bounce PORT passed unchanged" got "PORT 198,51,100,9,4,1" "$log"
refused=$(ip netns exec "$NS_R" "$FTPX_TOP/userspace/ftpxctl" stats | awk '$1 ~ /^refused_/ {n += $2} END {print n+0}')
check "refusals are counted ($refused)" test "$refused" -ge 8

test_done
