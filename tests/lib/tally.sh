# shellcheck shell=bash
# Result counting for the top-level test scripts (tests/run.sh,
# scripts/test-debug.sh): every step prints PASS/FAIL/SKIP lines and the
# script ends with "N passed, N failed[, N skipped]".
pass=0 fail=0 skip=0
failed=()

# result VERDICT NAME: print and count one result of the script's own
result() {
	echo "$1: $2"
	case "$1" in
	PASS) pass=$((pass + 1)) ;;
	FAIL) fail=$((fail + 1)); failed+=("$2") ;;
	SKIP) skip=$((skip + 1)) ;;
	esac
}

# tally FILE [PREFIX]: count the result lines another step printed to FILE.
tally() {
	local line
	while IFS= read -r line; do
		case "$line" in
		PASS:*) pass=$((pass + 1)) ;;
		FAIL:*) fail=$((fail + 1)); failed+=("${2:-}${line#FAIL: }") ;;
		SKIP:*) skip=$((skip + 1)) ;;
		esac
	done < "$1"
}

# vm_tally OUT RC PREFIX: count the case results of a VM run whose --out
# directory is OUT and whose scripts/vm-run.sh exit status was RC; a failed
# run no case accounts for (a warning outside every case, a hang, a boot
# that never reported) is one failure of its own.
vm_tally() {
	touch "$1/results"
	tally "$1/results" "$3 "
	if [ "$2" != 0 ] && ! grep -q '^FAIL:' "$1/results"; then
		result FAIL "$3 the VM run failed (vm-run status $2)"
	fi
}
