#!/usr/bin/env bash
# Usage: scripts/dkms-test.sh [KVER...]   (default: every kernel of scripts/kernels.sh)
#
# Take nf_ftpx through DKMS the way a user's machine does (make dkms-install,
# dkms add, build, install, remove) for each kernel's headers, without
# touching the host's DKMS state or module trees: the source tree, the dkms
# tree and the install tree live in a temporary directory (--sourcetree,
# --dkmstree, --installtree, --no-depmod), and dkms runs in a private mount
# namespace where /var/lib/dkms is that directory too, because the signing
# key dkms generates on first use (/var/lib/dkms/mok.key) ignores --dkmstree.
#
# The module dkms installed is kept as build/KVER/dkms/nf_ftpx.ko[.xz], with
# the modules.* index depmod made for the kernel's modules plus it, for
# tests/vm/60-dkms.sh, which installs both in the guest and modprobes it.
# Also checked: BUILD_EXCLUSIVE_KERNEL refuses kernels nobody tests.
# Prints one PASS/FAIL line per check; exit status 1 if any failed.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

if [ "${1:-}" != --inside ]; then
	[ "$(id -u)" = 0 ] || { echo "dkms-test: needs root (mount namespace)" >&2; exit 2; }
	command -v dkms >/dev/null || { echo "FAIL: dkms: not installed (scripts/deps.sh)"; exit 1; }
	exec unshare --mount --propagation private "$0" --inside "$@"
fi
shift

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' dkms.conf)
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || mapfile -t kernels < <(scripts/kernels.sh)
[ ${#kernels[@]} -gt 0 ] || { echo "FAIL: dkms: no kernel with headers installed"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ftpx-dkms.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/varlib" "$tmp/dkms" "$tmp/lib/modules"
mount --bind "$tmp/varlib" /var/lib/dkms || { echo "FAIL: dkms: cannot bind /var/lib/dkms"; exit 1; }
dk=(--dkmstree "$tmp/dkms" --sourcetree "$tmp/root/usr/src" --installtree "$tmp/lib/modules")

fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# run LOG CMD...: run quietly into LOG; on failure show its tail
run() {
	local log=$1
	shift
	echo "+ $*" >> "$log"
	"$@" >> "$log" 2>&1 && return 0
	tail -n 25 "$log" | sed 's/^/  | /'
	return 1
}

log=$tmp/dkms.log
echo "dkms-test: $name $ver, dkms $(dkms --version | sed 's/^dkms-//'), kernels ${kernels[*]}"
if run "$log" make -s dkms-install DESTDIR="$tmp/root"; then
	# the tree holds the sources Kbuild names and nothing built
	extra=$(cd "$tmp/root/usr/src/$name-$ver" && find . -type f ! -name '*.[ch]' ! -name Kbuild ! -name dkms.conf)
	if [ -z "$extra" ] && [ -f "$tmp/root/usr/src/$name-$ver/nf_ftpx/main.c" ]; then
		pass "dkms: make dkms-install puts the sources in /usr/src/$name-$ver"
	else
		fail "dkms: make dkms-install: unexpected files: $extra"
	fi
else
	fail "dkms: make dkms-install"
	exit 1
fi
if run "$log" dkms add -m "$name" -v "$ver" "${dk[@]}"; then
	pass "dkms: add $name/$ver"
else
	fail "dkms: add $name/$ver"
	exit 1
fi

for k in "${kernels[@]}"; do
	klog=$tmp/dkms-$k.log
	# a failed run must not leave an older module for the VM test
	rm -rf "build/$k/dkms"
	mkdir -p "$tmp/lib/modules/$k"
	t0=$SECONDS
	if ! run "$klog" dkms build -m "$name" -v "$ver" -k "$k" "${dk[@]}"; then
		fail "dkms: build for $k"
		continue
	fi
	if ! run "$klog" dkms install -m "$name" -v "$ver" -k "$k" --no-depmod "${dk[@]}"; then
		fail "dkms: install for $k"
		continue
	fi
	ko=$(find "$tmp/lib/modules/$k/updates/dkms" -name 'nf_ftpx.ko*' 2>/dev/null | head -n 1)
	if [ -z "$ko" ]; then
		fail "dkms: install for $k: no nf_ftpx.ko* under updates/dkms"
		continue
	fi
	vm=$(modinfo -F vermagic "$ko" | awk '{print $1}')
	mv=$(modinfo -F version "$ko")
	if [ "$vm" != "$k" ] || [ "$mv" != "$ver" ]; then
		fail "dkms: $k: the installed module is version $mv for $vm, want $ver for $k"
		continue
	fi
	status=$(dkms status -m "$name" -v "$ver" -k "$k" "${dk[@]}" 2>&1)
	case $status in
	*": installed"*) ;;
	*) fail "dkms: status for $k says: $status"; continue ;;
	esac
	# What dkms install does next, and --no-depmod skipped: depmod, here
	# into a private base directory that sees the kernel's own modules
	# (symlinked) plus ours. Its index goes with the module to the guest,
	# which would need minutes under TCG to read every module itself.
	idx=$tmp/depmod/lib/modules/$k
	mkdir -p "$idx/updates/dkms"
	for d in /lib/modules/"$k"/*/; do
		d=${d%/}
		case ${d##*/} in build | source | updates) continue ;; esac
		ln -s "$d" "$idx/${d##*/}"
	done
	cp /lib/modules/"$k"/modules.order /lib/modules/"$k"/modules.builtin* "$idx/"
	cp "$ko" "$idx/updates/dkms/"
	sysmap=()
	[ -f "/boot/System.map-$k" ] && sysmap=(-F "/boot/System.map-$k")
	if ! run "$klog" depmod -b "$tmp/depmod" "${sysmap[@]}" "$k" ||
		! grep -q "^updates/dkms/${ko##*/}: .*nf_nat" "$idx/modules.dep"; then
		fail "dkms: depmod for $k: no updates/dkms/${ko##*/} with its dependencies in modules.dep"
		continue
	fi
	mkdir -p "build/$k/dkms"
	cp "$ko" "$idx"/modules.* "build/$k/dkms/"
	pass "dkms: build + install + depmod for $k -> updates/dkms/${ko##*/} ($((SECONDS - t0)) s; kept in build/$k/dkms/)"
done

# The regex claims only the tested kernels: other series are refused (77).
for k in 6.12.48+deb13-amd64 6.6.15-amd64 5.10.0-30-amd64; do
	mkdir -p "$tmp/lib/modules/$k"
	rc=0
	dkms build -m "$name" -v "$ver" -k "$k" --kernelsourcedir "/lib/modules/${kernels[0]}/build" \
		"${dk[@]}" > "$tmp/excl.log" 2>&1 || rc=$?
	if [ $rc -eq 77 ]; then
		pass "dkms: BUILD_EXCLUSIVE_KERNEL refuses $k"
	else
		fail "dkms: BUILD_EXCLUSIVE_KERNEL: build for $k exit $rc, want 77"
		sed 's/^/  | /' "$tmp/excl.log" | tail -n 10
	fi
done

if run "$log" dkms remove -m "$name" -v "$ver" --all --no-depmod "${dk[@]}" &&
	[ -z "$(find "$tmp/lib/modules" -name 'nf_ftpx.ko*')" ]; then
	pass "dkms: remove --all takes the modules out again"
else
	fail "dkms: remove --all"
fi
[ $fails -eq 0 ]
