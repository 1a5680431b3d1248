#!/usr/bin/env bash
# ftpx-case-timeout: 180
# Two FTPS sessions of one (masqueraded) client to one server: when the
# session that holds the passive-range gates ends, the other one's data
# connection must still get through.
#
#   b: client 10.0.1.2 -- [r: masquerade 203.0.113.1; helper on 2121]
#        -- server 203.0.113.2 (vsftpd explicit TLS, passive 50000-50003,
#           known to nf_ftpx: 4 gates a session)
#
# tests/lib/tools/gatehandover.py: A logs in first and gets the gates; B's
# are refused (the same tuples) and deferred, A's admit B meanwhile. B sends
# PASV, A quits (its gates go with it), B connects to its data port.
#   1 B sends NOOP first: its deferred gates are made on that packet, the
#     data connection gets through (the documented retry path);
#   2 B connects at once, as every client does after PASV: the data
#     connection must get through as well (a client cannot know that it
#     has to say something first). The 71-stress case hit this with a few
#     dozen FTPS sessions from one address: a data connection in that window
#     hangs until the client gives up.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/ftp.sh"
PY=$FTPX_PYTHON
CTL=$FTPX_TOP/userspace/ftpxctl
server_available vsftpd || skip "vsftpd not installed"
[ -x "$CTL" ] || skip "userspace/ftpxctl not built"

ftpx_load || fail "cannot load nf_ftpx"
topo_setup b
router_rules_nft ftpx --ports 2121 || fail "ruleset"
topo_diagram
on r "$CTL" server set "$S_ADDR4" pasv 50000-50003 || fail "ftpxctl server set"
server_start vsftpd --family 4 --tls explicit --port 2121 --pasv 50000-50003 --reuse no ||
	fail "vsftpd explicit TLS"
gates() { on r conntrack -L expect 2>/dev/null | grep -c 'class=1 helper=ftpx'; }
_no_gates() { [ "$(gates)" -eq 0 ]; }

out=$(ip netns exec "$NS_C" "$PY" "$FTPX_TOP/tests/lib/tools/gatehandover.py" "$S_PUB4" 2121 --noop 2>&1)
check "B says NOOP after A quit: its data connection gets through ($out)" \
	grep -q 'received 1024 bytes' <<<"$out"
busywait 20000 _no_gates
check_eq "no gate left after both sessions" "$(gates)" 0

out=$(ip netns exec "$NS_C" "$PY" "$FTPX_TOP/tests/lib/tools/gatehandover.py" "$S_PUB4" 2121 2>&1)
check "B connects right after A quit: its data connection gets through ($out)" \
	grep -q 'received 1024 bytes' <<<"$out"
on r "$CTL" stats | grep -E '^gate_' | tr '\n' ' '
echo
test_done
