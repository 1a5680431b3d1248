# shellcheck shell=bash disable=SC2034
# (SC2034: variables set here are read by the parts that source this)
# Shared by the guest parts of the benchmark (tests/bench/vm-*.sh), sourced
# after tests/lib/runner.sh and tests/lib/ftp.sh. Placement c of net.sh:
#
#   client 198.51.100.2 -- c0 [r: DNAT 21 (and the passive range) to
#                              192.168.1.2] s0 -- server 192.168.1.2
#
#   bench_rules SETUP   the router's ruleset for one setup:
#       ftpx     helper ftpx on 21, forward admits related ftpx connections
#       intree   helper ftp (nf_conntrack_ftp + nf_nat_ftp), the same
#       static   no helper: the passive range $BENCH_RANGE is DNATed and
#                forwarded like a port forward (the server announces the
#                public address itself)
#       gate     helper ftpx with the range DNATed but not forwarded: only
#                nf_ftpx's passive-range gates admit it (FTPS)
#   bench_row PART KEY VALUE  one result, to $FTPX_OUT/bench/results.tsv
#   bench_cpu           "busy sys+softirq" jiffies of the whole guest
#   bench_median V...   the median of numbers

BENCH_RANGE=${BENCH_RANGE:-50000-50999}
BENCH_QUICK=${FTPX_BENCH_QUICK:-0}
BENCH_DIR=$FTPX_TOP/tests/bench
# servers are restarted per setup while other parts load the guest (the
# smoke runs the parts at once): give them longer than a test case does
FTPX_START_TIMEOUT_MS=60000
mkdir -p "$FTPX_OUT/bench"

bench_row() {
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$FTPX_OUT/bench/results.tsv"
	echo "bench: $1 $2 = $3"
}

bench_rules() {
	local setup=$1 helper='' fwd='' range=''
	case $setup in
	ftpx | gate) helper=ftpx ;;
	intree) helper=ftp ;;
	static) ;;
	*) ftpx_die "bench_rules: ftpx|intree|static|gate" ;;
	esac
	case $setup in
	static) range=", $BENCH_RANGE"
		fwd="iifname \"c0\" ct state new tcp dport $BENCH_RANGE counter accept comment \"ftpx:range\"" ;;
	gate) range=", $BENCH_RANGE" ;;
	esac
	ip netns exec "$NS_R" nft delete table inet bench 2>/dev/null
	ip netns exec "$NS_R" conntrack -F >/dev/null 2>&1
	ip netns exec "$NS_R" conntrack -F expect >/dev/null 2>&1
	ip netns exec "$NS_R" nft -f - <<EOF
table inet bench {
$([ -n "$helper" ] && printf '\tct helper h {\n\t\ttype "%s" protocol tcp\n\t}\n' "$helper")
	chain helper {
		type filter hook prerouting priority -150; policy accept;
$([ -n "$helper" ] && printf '\t\ttcp dport 21 ct helper set "h"\n')
	}
	chain dstnat {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "c0" tcp dport { 21$range } dnat ip to $S_ADDR4
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established counter accept comment "ftpx:established"
$([ -n "$helper" ] && printf '\t\tct state related ct helper "%s" counter accept comment "ftpx:related"\n' "$helper")
		meta l4proto { icmp, ipv6-icmp } accept
		iifname "c0" ct state new tcp dport 21 counter accept comment "ftpx:ctrl"
		$fwd
		counter drop comment "ftpx:drop"
	}
}
EOF
}

# whole-guest CPU time in jiffies: "busy sys_softirq" (busy: all but idle
# and iowait). Client, router and server share this kernel.
bench_cpu() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $4 + $7 + $8 }' /proc/stat
}

bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# (vm-bench.sh may have loaded them for parts that run at the same time)
bench_modules() {
	[ -d /sys/module/nf_ftpx ] || ftpx_load || return 1
	modprobe nf_conntrack_ftp && modprobe nf_nat_ftp
}
