#!/usr/bin/env bash
# Usage: scripts/debug-kernel/build.sh
# Build the debug kernel that scripts/test-debug.sh runs the VM suite on, or
# reuse it from the cache, install its modules in /lib/modules/KVER (where the
# VM harness reads them, with KVER/build pointing at the built tree for
# out-of-tree modules), and print "KVER IMAGE" as the last line of stdout.
#
# Source: Debian's linux-source-6.12 package. Config: `make allnoconfig` plus
# debug.config (KASAN, kmemleak, lockdep, atomic-sleep checks and what the
# harness needs); every line of the fragment is checked in the result. The
# cache, ~/.cache/nf_ftpx/debug-kernel (FTPX_DEBUG_KERNEL_CACHE), holds one
# built tree per source version and .config hash; a new Debian source upload,
# an edited fragment or another compiler makes a new one.
#
# Environment: FTPX_JOBS (make -j, default nproc). The build runs at nice 19.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
frag=$here/debug.config
pkg=linux-source-6.12
tarball=/usr/src/$pkg.tar.xz
cache=${FTPX_DEBUG_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nf_ftpx/debug-kernel}
jobs=${FTPX_JOBS:-$(nproc)}
log() { echo "debug-kernel: $*" >&2; }

need=()
for p in "$pkg" flex bison bc libelf-dev libssl-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	apt-get install -y --no-install-recommends "${need[@]}" >&2
fi
ver=$(dpkg-query -W -f='${Version}' "$pkg")

mkdir -p "$cache/keys"
exec {lock}>> "$cache/.lock"
flock "$lock" # one build (and one install) at a time

# configure TREE: the .config this script stands for, or fail naming every
# fragment line that did not survive (a missing dependency drops a symbol
# silently otherwise).
configure() {
	local l sym bad=0
	make -s -C "$1" allnoconfig >&2
	(cd "$1" && scripts/kconfig/merge_config.sh -m .config "$frag") > /dev/null
	make -s -C "$1" olddefconfig >&2
	while IFS= read -r l; do
		case "$l" in
		CONFIG_*=*)
			grep -qxF "$l" "$1/.config" && continue ;;
		"# CONFIG_"*" is not set")
			sym=${l#\# }; sym=${sym%% *}
			grep -q "^$sym=" "$1/.config" || continue ;;
		*) continue ;;
		esac
		log "debug.config: '$l' did not make it into .config: $(grep -E "^(# )?${l%%=*}[= ]" "$1/.config" || echo absent)"
		bad=1
	done < "$frag"
	return $bad
}

# Which tree the fragment, source version and compiler made last time: this
# spares unpacking the source just to learn the .config hash.
recipe=$(printf '%s\n' "$ver" "$(gcc --version | head -n 1)" | cat - "$frag" "$0" | sha256sum | cut -c1-16)
key=
[ -f "$cache/keys/$recipe" ] && key=$(< "$cache/keys/$recipe")
if [ -z "$key" ] || [ ! -f "$cache/$key/.ftpx-built" ]; then
	scratch=$(mktemp -d "$cache/new.XXXXXX")
	trap 'rm -rf "$scratch"' EXIT
	log "unpacking $tarball ($pkg $ver)"
	tar -xJf "$tarball" -C "$scratch"
	configure "$scratch/$pkg"
	key=${ver//[^A-Za-z0-9.+-]/_}-$(sha256sum "$scratch/$pkg/.config" | cut -c1-12)
	# a tree left half-built by an interrupted run resumes where it stopped
	[ -d "$cache/$key" ] || mv "$scratch/$pkg" "$cache/$key"
	rm -rf "$scratch"
	echo "$key" > "$cache/keys/$recipe"
fi
tree=$cache/$key
if [ ! -f "$tree/.ftpx-built" ]; then
	log "building $key in $tree (make -j$jobs at nice 19; the log is $tree/build.log)"
	t0=$SECONDS
	if ! nice -n 19 make -C "$tree" -j"$jobs" bzImage modules > "$tree/build.log" 2>&1; then
		tail -n 30 "$tree/build.log" >&2
		log "build failed; the log is $tree/build.log"
		exit 1
	fi
	echo "$((SECONDS - t0))" > "$tree/.ftpx-built"
	log "built in $((SECONDS - t0)) s"
fi

kver=$(< "$tree/include/config/kernel.release")
mod=/lib/modules/$kver
if [ "$(cat "$mod/.ftpx-debug-key" 2>/dev/null)" != "$key" ]; then
	# Only ever replace a module tree this script installed.
	if [ -e "$mod" ] && [ ! -e "$mod/.ftpx-debug-key" ]; then
		log "$mod exists and was not installed by this script; not touching it"
		exit 1
	fi
	rm -rf "$mod"
	log "installing modules in $mod"
	make -s -C "$tree" modules_install INSTALL_MOD_PATH= >&2
	ln -sfn "$tree" "$mod/build"
	echo "$key" > "$mod/.ftpx-debug-key"
fi
echo "$kver $tree/arch/x86/boot/bzImage"
