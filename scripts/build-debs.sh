#!/usr/bin/env bash
# Usage: scripts/build-debs.sh [OUTDIR]   (default build/debs)
#
# Build the Debian packages (nf-ftpx-dkms, ftpxd) with
# `dpkg-buildpackage -b -us -uc` from a clean copy of this tree, then run
# lintian on the result. dpkg-buildpackage writes into the parent of the
# source directory, so the copy lives in a temporary directory and only the
# .deb/.changes/.buildinfo files come back, to OUTDIR. The copy is what a
# clean checkout holds: the files git tracks plus new ones not ignored, so no
# build products (*.o, *.ko, build/) and no uncommitted deletions sneak in.
#
# Prints PASS/FAIL lines; exit status 1 if the build failed or lintian
# reported an error or warning that debian/*lintian-overrides does not
# explain (info and pedantic tags are shown, not counted).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
out=${1:-$top/build/debs}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ftpx-debs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
src=$tmp/nf-ftpx
mkdir -p "$src"

# a clean checkout's files (existing ones: a deleted file is not built)
git rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	{ echo "FAIL: debian: $top is not a git checkout"; exit 1; }
git ls-files -z --cached --others --exclude-standard |
	(cd "$top" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
	cpio -0 -pdm --quiet "$src" || { echo "FAIL: debian: copying the tree"; exit 1; }

# One version everywhere: dkms.conf (module, /usr/src path) and the package.
mod_ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
deb_ver=$(cd "$src" && dpkg-parsechangelog -S Version)
if [ "${deb_ver%%-*}" != "$mod_ver" ]; then
	echo "FAIL: debian: debian/changelog says $deb_ver, dkms.conf $mod_ver"
	exit 1
fi

t0=$SECONDS
log=$tmp/build.log
if ! (cd "$src" && dpkg-buildpackage -b -us -uc) > "$log" 2>&1; then
	tail -n 40 "$log" | sed 's/^/  | /'
	echo "FAIL: debian: dpkg-buildpackage -b -us -uc ($((SECONDS - t0)) s)"
	exit 1
fi
echo "PASS: debian: dpkg-buildpackage -b -us -uc ($((SECONDS - t0)) s)"

mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
cp "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo "$out"/
for d in "$out"/*.deb; do
	case $d in *-dbgsym_*) continue ;; esac
	echo "== ${d##*/}"
	dpkg-deb -c "$d" | awk '{print "  " $6 ($7 ? " " $7 " " $8 : "")}'
done

rc=0
# dh_dkms wires the package to dkms: the postinst must build and install.
# (Listings go to variables first: grep -q on a pipe under pipefail would
# fail the pipeline with SIGPIPE.)
pi=$(dpkg-deb -I "$out"/nf-ftpx-dkms_*.deb postinst 2>/dev/null)
files=$(dpkg-deb -c "$out"/nf-ftpx-dkms_*.deb)
if grep -q 'dkms' <<< "$pi" && grep -q "usr/src/nf-ftpx-$mod_ver/dkms.conf$" <<< "$files"; then
	echo "PASS: debian: nf-ftpx-dkms ships /usr/src/nf-ftpx-$mod_ver with a dkms postinst"
else
	echo "FAIL: debian: nf-ftpx-dkms lacks its dkms.conf or dkms postinst"
	rc=1
fi

# every program reports the package's version (they keep their own copy)
mkdir -p "$tmp/x"
dpkg-deb -x "$out"/ftpxd_*.deb "$tmp/x"
for p in "$tmp"/x/usr/sbin/*; do
	got=$("$p" --version 2>&1 | head -n 1)
	if [[ " $got " == *" $mod_ver "* ]]; then
		echo "PASS: debian: ${p##*/} --version says $mod_ver"
	else
		echo "FAIL: debian: ${p##*/} --version says '$got', the package is $mod_ver"
		rc=1
	fi
done

# lintian: E/W fail; I/P (info, pedantic) and overridden tags are reported
t0=$SECONDS
lint=$tmp/lintian.log
lintian --display-info --pedantic --display-experimental --show-overrides \
	"$out"/*.changes > "$lint" 2>&1
grep -v 'running with root privileges' "$lint" | sed 's/^/  lintian: /'
bad=$(grep -cE '^[EW]: ' "$lint")
if [ "$bad" -eq 0 ]; then
	echo "PASS: debian: lintian: no errors or warnings ($(grep -cE '^[IPX]: ' "$lint") info/pedantic, $(grep -cE '^O: ' "$lint") overridden; $((SECONDS - t0)) s)"
else
	echo "FAIL: debian: lintian: $bad errors/warnings"
	rc=1
fi
exit $rc
