#!/usr/bin/env bash
# ftpx-case-timeout: 240
# The control interface (generic netlink family "nf_ftpx") under malformed
# messages, built byte by byte by tests/lib/tools/nlhammer.py in a network
# namespace of their own: unknown commands, rejected and unknown attributes,
# wrong lengths, missing and flat-instead-of-nested attributes, truncated
# headers, a 64000-byte message, a full server table. Each must be refused
# with the expected errno (the extack message is recorded) and leave the
# server table unchanged; no kernel warning (the runner checks).
#
# Then the permission check, every command once, well-formed:
#   nobody (uid 65534)                          -> EPERM
#   nobody in a user namespace of its own, as
#   root there, in the initial network namespace -> EPERM
#   same, in a network namespace of its own      -> allowed: the config is
#                                                   per network namespace,
#                                                   and the parent's table
#                                                   stays empty
# Every row lands in $FTPX_OUT/badinput/netlink.tsv (docs/bad-input.md).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/runner.sh"
. "$here/../lib/net.sh"
. "$here/../lib/dump.sh"
PY=$FTPX_PYTHON
T=$here/../lib/tools

ftpx_load || fail "cannot load nf_ftpx"
ns_add nl NS_NL
tmp=$(ftpx_tmpdir)
mkdir -p "$FTPX_OUT/badinput"
tsv=$FTPX_OUT/badinput/netlink.tsv
: >"$tsv"

check "malformed messages: each refused as expected, table unchanged" \
	ip netns exec "$NS_NL" "$PY" "$T/nlhammer.py" "$tsv"

servers() {
	local o
	o=$(ip netns exec "$NS_NL" "$FTPX_TOP/userspace/ftpxctl" servers) || { echo "ftpxctl failed"; return; }
	printf '%s' "$o" | grep -c .
}

if command -v setpriv >/dev/null; then
	chmod 777 "$tmp"
	asnobody() { ip netns exec "$NS_NL" setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
	: >"$tmp/p.tsv"
	chmod 666 "$tmp/p.tsv"
	check "nobody: every command EPERM" \
		asnobody "$PY" "$T/nlhammer.py" "$tmp/p.tsv" --only-perm EPERM --who nobody
	if asnobody unshare -Ur true 2>/dev/null; then
		check "root of its own user namespace, initial netns: every command EPERM" \
			asnobody unshare -Ur "$PY" "$T/nlhammer.py" "$tmp/p.tsv" \
			--only-perm EPERM --who userns-root
		check "root of its own user and network namespace: allowed there" \
			asnobody unshare -Urn "$PY" "$T/nlhammer.py" "$tmp/p.tsv" \
			--only-perm ok --who userns-netns-root
		check_eq "the parent namespace's server table is untouched" "$(servers)" 0
	else
		echo "unprivileged user namespaces are disabled: those rows are not run"
	fi
	cat "$tmp/p.tsv" >>"$tsv"
else
	echo "setpriv not installed: no unprivileged rows"
fi
echo "rows: $(grep -c . "$tsv"), failed: $(grep -c $'\tFAIL$' "$tsv")"
test_done
