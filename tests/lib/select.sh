# shellcheck shell=bash
# Which tests/vm cases a run takes: FTPX_TESTS holds space-separated globs,
# each matched against a case's name with or without ".sh" (default: all).
# Used by tests/lib/suite.sh in the guest and scripts/test-debug.sh, which
# splits the selection into lanes, so both read FTPX_TESTS the same way.

# ftpx_selected FILE|NAME: true when FTPX_TESTS selects that case
ftpx_selected() {
	local name=${1##*/} g globs
	name=${name%.sh}
	[ -z "${FTPX_TESTS:-}" ] && return 0
	read -ra globs <<< "$FTPX_TESTS" # (read does not expand them as globs)
	for g in "${globs[@]}"; do
		# shellcheck disable=SC2053 # $g is a glob on purpose
		[[ $name == $g || $name.sh == $g ]] && return 0
	done
	return 1
}
