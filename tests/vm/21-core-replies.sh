#!/usr/bin/env bash
# Server replies: control-line handling of helper "ftpx" through a NAT router, checked byte for
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

# ---- placement c: server behind DNAT, replies rewritten ---------------------
topo_setup c
topo_diagram
router_rules_nft ftpx

log=$tmp/c.log
fake_start "$log" --pasv "227 Entering Passive Mode (192,168,1,2,195,80)." \
	--epsv "229 Entering Extended Passive Mode (|||50001|)" \
	--banner '230-welcome\r\n227 Entering Passive Mode (192,168,1,2,1,1)\r\n230 done\r\n'

RAWX="--extra 1"	# the scripted multi-line banner
ip netns exec "$NS_R" conntrack -F expect 2>/dev/null
out=$(raw "PASV\r\n") || fail "PASV stalled: $out"
echo "$out"
check "227 inside a multi-line reply is left alone" grep -qF "227 Entering Passive Mode (192,168,1,2,1,1)" <<<"$out"
check "227 is rewritten to the address the client connected to" grep -qE "^REPLY: 227 Entering Passive Mode \(198,51,100,1,[0-9]+,[0-9]+\)\.$" <<<"$out"
check_eq "one expectation for the 227 (none for the multi-line text)" "$(expects)" 1
ip netns exec "$NS_R" conntrack -L expect

# A block opener split across segments ("550" + "-..."), and one longer than
# the partial-line buffer: the 227 lines inside must still be text.
kill "$FAKE_PID"
busywait 10000 bash -c "! kill -0 $FAKE_PID 2>/dev/null" >/dev/null || fail "old fakeftpd still running"
long=$(printf 'x%.0s' $(seq 300))
fake_start "$log" --pasv "227 Entering Passive Mode (192,168,1,2,195,80)." \
	--epsv "229 Entering Extended Passive Mode (|||50001|)" \
	--banner "550<SEG>-split opener\r\n227 Entering Passive Mode (192,168,1,2,1,2)\r\n550 end\r\n230-$long\r\n227 Entering Passive Mode (192,168,1,2,1,3)\r\n230 end\r\n"
ip netns exec "$NS_R" conntrack -F expect 2>/dev/null
RAWX="--extra 2"
out=$(raw "NOOP\r\n") || fail "split banner stalled: $out"
check "227 inside a block with a split opener is left alone" grep -qF "(192,168,1,2,1,2)" <<<"$out"
check "227 inside a block with a long opener is left alone" grep -qF "(192,168,1,2,1,3)" <<<"$out"
check_eq "no expectation from text inside multi-line replies" "$(expects)" 0
RAWX="--extra 2"

ip netns exec "$NS_R" conntrack -F expect 2>/dev/null
out=$(raw "EPSV\r\n") || fail "EPSV stalled: $out"
check "229 keeps its port" grep -qF "(|||50001|)" <<<"$out"
check_eq "one expectation for the 229" "$(expects)" 1
ip netns exec "$NS_R" conntrack -L expect | grep -q "dport=50001" ||
	check "229 expectation is for port 50001" false

test_done
