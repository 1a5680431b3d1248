#!/usr/bin/env bash
# FTP bounce and low-port module parameters, without NAT (placement a: the
# router only routes, so nothing is rewritten and only the expectation shows
# what the helper decided):
#
#   client 198.51.100.2 -- [r: routes, helper "ftpx" on 21] -- server 203.0.113.2
#   (fakeftpd.py as the server, rawctl.py as the client)
#
#   line                                      default        loose=1 low_ports=1
#   PORT 198,51,100,2,4,1   (the client)      expectation    expectation
#   PORT 198,51,100,9,4,1   (third address)   none, counted  expectation to .9
#   EPRT |1|198.51.100.9|1025|                none, counted  expectation to .9
#   PORT 198,51,100,2,0,25  (port 25)         none, counted  expectation to 25
#   EPRT |1|198.51.100.2|25|                  none, counted  expectation to 25
#   227 (203,0,113,9,195,80) (server: third)  none, counted  expectation to .9
#
# Then modinfo: every parameter of nf_ftpx.ko has a description, and sysfs
# shows the loaded module's values.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/net.sh"
. "$here/../lib/dump.sh"
PY=$FTPX_PYTHON
T=$here/../lib/tools
CTL=$FTPX_TOP/userspace/ftpxctl

require_cmd conntrack nft modinfo
[ -x "$CTL" ] || skip "userspace/ftpxctl not built"

created() { # expectations created on the router so far
	on r conntrack -S expect 2>/dev/null |
		sed -n 's/.*expect_create=\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}'
}
stat_of() { on r "$CTL" stats | awk -v n="$1" '$1 == n {print $2; f = 1} END {if (!f) print 0}'; }
raw() { on c "$PY" "$T/rawctl.py" "$(s_pub 4)" 21 "$@"; }

# try NAME WANT SEG...: send the segments on a fresh control connection;
# WANT expectations must be created, and listed with the address/port
# given by WANT_TUPLE (a grep -E pattern) when set
try() {
	local name=$1 want=$2 e0 n out
	shift 2
	on r conntrack -F expect 2>/dev/null
	e0=$(created)
	out=$(raw "$@" 2>&1) || check "$name: control connection alive ($out)" false
	n=$(($(created) - e0))
	check_eq "$name: expectations" "$n" "$want"
	if [ "$want" -gt 0 ] && [ -n "${WANT_TUPLE:-}" ]; then
		local l
		l=$(on r conntrack -L expect 2>/dev/null)
		echo "$l" | sed 's/^/    /'
		check "$name: the expectation is for $WANT_TUPLE" grep -qE "$WANT_TUPLE" <<<"$l"
	fi
	WANT_TUPLE=''
}

# the six lines, expecting N_BOUNCE expectations for the third-address and
# low-port ones
lines() {
	local nb=$1
	try "PORT to the client itself" 1 "PORT 198,51,100,2,4,1\r\n"
	WANT_TUPLE='dst=198\.51\.100\.9 .*dport=1025'
	try "PORT to a third address" "$nb" "PORT 198,51,100,9,4,1\r\n"
	WANT_TUPLE='dst=198\.51\.100\.9 .*dport=1025'
	try "EPRT to a third address" "$nb" "EPRT |1|198.51.100.9|1025|\r\n"
	WANT_TUPLE='dst=198\.51\.100\.2 .*dport=25 '
	try "PORT to port 25" "$nb" "PORT 198,51,100,2,0,25\r\n"
	WANT_TUPLE='dst=198\.51\.100\.2 .*dport=25 '
	try "EPRT to port 25" "$nb" "EPRT |1|198.51.100.2|25|\r\n"
	WANT_TUPLE='src=198\.51\.100\.2 dst=203\.0\.113\.9 .*dport=50000'
	try "227 to a third address" "$nb" "PASV\r\n"
}

settle_on_exit
ftpx_load || fail "cannot load nf_ftpx"
topo_setup a
router_rules_nft ftpx || fail "ruleset"
topo_diagram
log=$(ftpx_tmpdir)/fake.log
on s "$PY" "$T/fakeftpd.py" "$(s_addr 4)" 21 "$log" \
	--pasv "227 Entering Passive Mode (203,0,113,9,195,80)." &
cleanup_push "kill $! 2>/dev/null"
busywait 60000 test -e "$log.ready" || fail "fakeftpd did not start"

echo "#### default parameters: loose=$(cat /sys/module/nf_ftpx/parameters/loose) low_ports=$(cat /sys/module/nf_ftpx/parameters/low_ports)"
b0=$(stat_of refused_bounce) l0=$(stat_of refused_lowport)
lines 0
b=$(($(stat_of refused_bounce) - b0)) l=$(($(stat_of refused_lowport) - l0))
check_eq "refusals counted as refused_bounce" "$b" 3
check_eq "refusals counted as refused_lowport" "$l" 2
check "the bounce PORT reached the server unchanged (no NAT here)" \
	grep -qF "PORT 198,51,100,9,4,1" "$log"

# reload with the parameters: the ruleset's ct helper object holds the module
on r nft delete table inet ftpx || fail "delete ruleset"
_unloaded() { rmmod nf_ftpx 2>/dev/null; [ ! -d /sys/module/nf_ftpx ]; }
busywait 20000 _unloaded || fail "nf_ftpx would not unload"
ftpx_load loose=1 low_ports=1 || fail "cannot load nf_ftpx loose=1 low_ports=1"
router_rules_nft ftpx || fail "ruleset"
echo "#### loose=$(cat /sys/module/nf_ftpx/parameters/loose) low_ports=$(cat /sys/module/nf_ftpx/parameters/low_ports)"
check_eq "sysfs shows loose" "$(cat /sys/module/nf_ftpx/parameters/loose)" Y
check_eq "sysfs shows low_ports" "$(cat /sys/module/nf_ftpx/parameters/low_ports)" Y
lines 1

# ---- modinfo: a description for every parameter
ko=$FTPX_TOP/build/$(uname -r)/nf_ftpx.ko
types=$(modinfo -F parmtype "$ko" | cut -d: -f1 | sort)
# "name:description (type)"; without a description "name:(type)"
described() {
	local l d
	while IFS= read -r l; do
		d=${l#*:}
		d=${d%(*)}
		[ -n "${d// /}" ] && echo "${l%%:*}"
	done
}
descs=$(modinfo -F parm "$ko" | described | sort)
modinfo -F parm "$ko" | sed 's/^/    /'
check "modinfo lists parameters ($(echo $types))" test -n "$types"
check_eq "parameters without a description" "$(comm -23 <(echo "$types") <(echo "$descs") | tr '\n' ' ')" ""
check_eq "parameters in sysfs and in modinfo" \
	"$(ls /sys/module/nf_ftpx/parameters | sort | tr '\n' ' ')" "$(echo "$types" | tr '\n' ' ')"
echo "TIME: ${SECONDS} s"
test_done
