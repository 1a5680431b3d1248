#!/usr/bin/env bash
# Benchmark part "scale": N concurrent FTP control sessions through the
# router (tests/bench/scale.py: synthetic client and server; each session
# gets its greeting, sends PASV and gets a 227, so the helper rewrites it
# and holds one data expectation), all held open at once; for nf_ftpx and
# the in-tree helper. Measured with the sessions open: conntrack entries
# and expectations in the router, slab memory per session (the caches
# nf_conntrack, nf_conntrack_expect and nf_ftpx's session objects; the
# whole guest's Slab line too, which also holds both ends' sockets) and
# the setup rate of the first and the last tenth of the sessions.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/ftp.sh"
. "$here/lib.bash"

if [ "$BENCH_QUICK" = 1 ]; then N=200; else N=${FTPX_BENCH_SCALE_N:-10000}; fi
bench_modules || fail "modules"
# room for N sessions: tables are global, set from the initial namespace
sysctl -qw net.netfilter.nf_conntrack_max=$((4 * N + 4096))
sysctl -qw net.netfilter.nf_conntrack_expect_max=$((2 * N + 1024))
echo $((N + 1024)) > /sys/module/nf_conntrack/parameters/hashsize 2>/dev/null
ulimit -n $((2 * N + 1024)) || fail "ulimit -n"
topo_setup c
topo_diagram
tmp=$(ftpx_tmpdir)

# bytes one object of cache NAME takes in its slab (a cache merged with
# another of its size has no line of its own in /proc/slabinfo; sysfs
# still knows its size)
obj_size() { cat "/sys/kernel/slab/$1/slab_size" 2>/dev/null || echo 0; }
slab_total() { awk '$1 == "Slab:" { print $2 * 1024 }' /proc/meminfo; }

# FTPX_BENCH_SCALE_ORDER: the order of the setups in the one guest (the
# second one finds the memory, sockets and tables the first one left)
order=${FTPX_BENCH_SCALE_ORDER:-ftpx intree}
bench_row scale order "$order"
for setup in $order; do
	case $setup in ftpx | intree) ;; *) fail "FTPX_BENCH_SCALE_ORDER: unknown setup $setup" ;; esac
	bench_rules "$setup" || fail "rules"
	ip netns exec "$NS_S" bash -c "ulimit -n $((2 * N + 1024)); exec $FTPX_PYTHON $BENCH_DIR/scale.py server 0.0.0.0 21 $S_ADDR4" \
		> "$tmp/srv-$setup.log" 2>&1 &
	spid=$!
	busywait 90000 grep -q ready "$tmp/srv-$setup.log" || fail "scale server: $(tail -n 5 "$tmp/srv-$setup.log")"
	sync
	echo 2 > /proc/sys/vm/drop_caches
	sl0=$(slab_total)
	st=$tmp/cli-$setup
	ip netns exec "$NS_C" bash -c "ulimit -n $((2 * N + 1024)); exec $FTPX_PYTHON $BENCH_DIR/scale.py client $S_PUB4 21 $N $st" \
		> "$tmp/cli-$setup.log" 2>&1 &
	cpid=$!
	busywait 900000 test -s "$st" || fail "client did not finish: $(tail -n 5 "$tmp/cli-$setup.log")"
	res=$(< "$st")
	sl1=$(slab_total)
	nct=$(ip netns exec "$NS_R" conntrack -C 2>/dev/null)
	nexp=$(ip netns exec "$NS_R" conntrack -L expect 2>/dev/null | grep -c . || true)
	sess=$(echo "$res" | sed -n 's/.*"sessions": \([0-9]*\).*/\1/p')
	echo "$setup: $res; router conntrack $nct, expectations $nexp"
	sessobj=0
	if [ "$setup" = ftpx ]; then
		sessobj=$(obj_size nf_ftpx_session)
		live=$(on r "$FTPX_TOP/userspace/ftpxctl" sessions 2>/dev/null | grep -c . || true)
		echo "nf_ftpx_session slab_size $sessobj, ftpxctl sessions lines $live"
	fi
	ctobj=$(obj_size nf_conntrack) exobj=$(obj_size nf_conntrack_expect)
	echo "object sizes: nf_conntrack $ctobj, nf_conntrack_expect $exobj, nf_ftpx_session $sessobj"
	bench_row scale "session_obj.$setup" "$sessobj"
	bench_row scale "sessions.$setup" "$sess"
	bench_row scale "failed.$setup" "$(echo "$res" | sed -n 's/.*"failed": \([0-9]*\).*/\1/p')"
	bench_row scale "rate.$setup" "$(echo "$res" | sed -n 's/.*"rate": \([0-9.]*\).*/\1/p')"
	bench_row scale "rate_first.$setup" "$(echo "$res" | sed -n 's/.*"rate_first": \([0-9.a-z]*\).*/\1/p')"
	bench_row scale "rate_last.$setup" "$(echo "$res" | sed -n 's/.*"rate_last": \([0-9.a-z]*\).*/\1/p')"
	bench_row scale "conntrack.$setup" "$nct"
	bench_row scale "expect.$setup" "$nexp"
	if [ "${sess:-0}" -gt 0 ]; then
		# router: its conntrack entries, expectations and nf_ftpx
		# sessions times their object sizes (the conntrack extensions,
		# allocated with kmalloc, are not in it)
		bench_row scale "router_b.$setup" $(((nct * ctobj + nexp * exobj + sess * sessobj) / sess))
		bench_row scale "slab_b.$setup" $(((sl1 - sl0) / sess))
	fi
	touch "$st.release"
	wait "$cpid"
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	[ "${sess:-0}" -eq "$N" ] || fail "$setup: $sess of $N sessions set up"
	[ "$nexp" -ge "$N" ] || fail "$setup: $nexp expectations for $N sessions"
done
bench_row scale n "$N"
