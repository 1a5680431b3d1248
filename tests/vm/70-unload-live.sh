#!/usr/bin/env bash
# rmmod nf_ftpx while control sessions and their expectations are live.
#
#   b: client 10.0.1.2 -- [r: masquerade 203.0.113.1] -- server 203.0.113.2
#
# While the ruleset's ct helper object references "ftpx", rmmod is refused.
# Once only conntracks use it, unloading must clean up: the core removes the helper's expectations and
# detaches it from every conntrack; nf_ftpx then frees the sessions those
# conntracks still point to. A leaked session would make the slab cache
# destruction warn (the runner fails the case on any kernel warning). The
# control connections themselves must survive, and after a reload new
# sessions are tracked again.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/net.sh"
. "$here/../lib/dump.sh"
PY=$FTPX_PYTHON
T=$here/../lib/tools

ftpx_load || fail "cannot load nf_ftpx"
tmp=$(ftpx_tmpdir)
topo_setup b
topo_diagram
router_rules_nft ftpx

log=$tmp/fake.log
ip netns exec "$NS_S" "$PY" "$T/fakeftpd.py" "$(s_addr 4)" 21 "$log" &
cleanup_push "kill $! 2>/dev/null"
busywait 30000 test -e "$log.ready" >/dev/null || fail "fakeftpd did not start"

expects() { ip netns exec "$NS_R" conntrack -L expect 2>/dev/null | grep -c . ; }
sessions() { ip netns exec "$NS_R" "$FTPX_TOP/userspace/ftpxctl" sessions | grep -c "mode=plain"; }

# three held sessions, each with a pending data expectation
pids=()
for i in 1 2 3; do
	mkdir -p "$tmp/h$i"
	ip netns exec "$NS_C" "$PY" "$T/holdctl.py" "$(s_pub 4)" 21 "$tmp/h$i" \
		"PORT 10,0,1,2,4,$i\r\n" >"$tmp/h$i/out" 2>&1 &
	pids+=($!)
done
for i in 1 2 3; do
	busywait 30000 test -e "$tmp/h$i/ready" >/dev/null || fail "held session $i not ready"
done
check_eq "three live sessions before rmmod" "$(sessions)" 3
check_eq "three pending expectations before rmmod" "$(expects)" 3
grep -q nf_ftpx_session /proc/slabinfo && check "session slab cache exists" true

check "rmmod is refused while the ruleset references the helper" bash -c "! rmmod nf_ftpx 2>/dev/null"
check_eq "sessions untouched by the refused rmmod" "$(sessions)" 3
# The helper's chain and object go (NAT and filter stay: without NAT hooks
# established NATed flows would no longer be translated); conntracks,
# sessions and expectations stay.
ip netns exec "$NS_R" nft delete chain inet ftpx helper
ip netns exec "$NS_R" nft delete ct helper inet ftpx ftpx-std
check_eq "expectations still pending without the ruleset" "$(expects)" 3
check "rmmod with live sessions and expectations succeeds" rmmod nf_ftpx
check_eq "expectations removed with the helper" "$(expects)" 0
check "session slab cache is gone" bash -c "! grep -q nf_ftpx_session /proc/slabinfo"

for i in 1 2 3; do touch "$tmp/h$i/go"; done
for i in 1 2 3; do
	wait "${pids[$((i - 1))]}"
	check "held control connection $i survives the unload" grep -q ALIVE "$tmp/h$i/out"
done

ftpx_load || fail "cannot reload nf_ftpx"
# The conntracks of the old sessions have no helper now; a new one does.
ip netns exec "$NS_R" nft delete table inet ftpx
router_rules_nft ftpx || fail "ruleset after reload"
out=$(ip netns exec "$NS_C" "$PY" "$T/rawctl.py" "$(s_pub 4)" 21 "PORT 10,0,1,2,4,9\r\n") ||
	fail "session after reload: $out"
busywait 10000 grep -qF "PORT 203,0,113,1," "$log" >/dev/null
check "after reload, PORT is rewritten again" grep -qF "PORT 203,0,113,1," "$log"
test_done
