# shellcheck shell=bash
# Kernel-log and taint checks, sourced by scripts/vm-run.sh (on the host, over a
# whole run) and by tests/lib/runner.sh (in the guest, per test case), so both
# judge a kernel log by the same rules.

# Any of these in the kernel log fails the run or case, whatever its exit status.
# The debug kernel (scripts/test-debug.sh) adds its detectors' reports; their
# first lines mostly start with WARNING: or BUG: too, named here all the same.
# kmemleak's own boot lines ("Kernel memory leak detector initialized") pass.
klog_patterns=(
	'WARNING:' 'BUG:' 'Oops' 'general protection' 'Call Trace'
	'Missing .* setup call'
	'possible recursive locking' 'inconsistent lock state' 'circular locking'
	'suspicious RCU usage' 'sleeping function called from invalid context'
	'KASAN' 'UBSAN'
	'suspected memory leak' 'unreferenced object' 'kmemleak: .*(disabled|[Cc]annot)'
	'Kernel panic' # only a console log can show it
)

# klog_scan < LOG: print the offending lines; true if there are any.
klog_scan() {
	local args=() p
	for p in "${klog_patterns[@]}"; do args+=(-e "$p"); done
	grep -E "${args[@]}"
}

# Taint bits a test run is expected to set: loading our out-of-tree (O, bit 12),
# unsigned (E, bit 13) modules. Everything else (W for a warning, D for an oops,
# ...) counts.
taint_expected=$(((1 << 12) | (1 << 13)))

# taint_new BEFORE AFTER: print the unexpected bits AFTER adds to BEFORE.
taint_new() {
	echo $((($2 & ~$1) & ~taint_expected))
}

# taint_flags MASK: the letters the kernel uses for these bits (see
# Documentation/admin-guide/tainted-kernels.rst), e.g. 512 -> W.
taint_flags() {
	local letters=PFSRMBUDAWCIOELKXTN s='' i
	for ((i = 0; i < ${#letters}; i++)); do
		(($1 & (1 << i))) && s+=${letters:i:1}
	done
	echo "${s:-?}"
}

# kmemleak_check: on a kernel with kmemleak (the debug kernel), print the heap
# objects nobody points to any more, then forget them, so each is reported by
# one check only. Prints nothing, at no cost, on a kernel without kmemleak.
# kmemleak reports an object once it is 5 s old and unchanged across two
# scans: the wait lets what the last seconds freed too little show up now.
# Needs debugfs at /sys/kernel/debug (the VM mounts it).
kmemleak_file=/sys/kernel/debug/kmemleak
kmemleak_check() {
	[ -w "$kmemleak_file" ] || return 0
	sleep 5 # kmemleak's minimum object age (jiffies_min_age)
	echo scan > "$kmemleak_file" && echo scan > "$kmemleak_file" || return 0
	cat "$kmemleak_file"
	echo clear > "$kmemleak_file"
}
