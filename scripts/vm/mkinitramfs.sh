#!/usr/bin/env bash
# Usage: mkinitramfs.sh KVER
# Build (or reuse from the cache) the test VM's initramfs for kernel KVER and
# print its path. It holds only busybox-static, the modules needed to mount the
# host's / over virtio-9p with an overlay on top, and scripts/vm/initramfs-init;
# everything else the guest runs comes from the host's own root.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kver=${1:?usage: mkinitramfs.sh KVER}
moddir=/lib/modules/$kver
busybox=/bin/busybox
init=$top/scripts/vm/initramfs-init
cache=$top/.cache/vm
img=$cache/initramfs-$kver.cpio

# What the initramfs must load; modules.dep adds the rest (virtio_ring, netfs,
# fscache, ... on 6.1) and modules.builtin drops what the kernel already has
# (the whole virtio stack and fscache on 6.12).
wanted=(virtio_pci 9pnet_virtio 9p overlay)

[ -f "$moddir/modules.dep" ] || { echo "mkinitramfs: no $moddir/modules.dep" >&2; exit 1; }
# A dynamic busybox would die in the initramfs, where there is no libc.
if readelf -l "$busybox" | grep -q INTERP; then
	echo "mkinitramfs: $busybox is not busybox-static" >&2; exit 1
fi

# Reuse the cached image unless one of its inputs is newer.
if [ -f "$img" ]; then
	stale=
	for f in "$0" "$init" "$busybox" "$moddir/modules.dep" "$moddir/modules.builtin"; do
		if [ "$f" -nt "$img" ]; then stale=1; fi
	done
	if [ -z "$stale" ]; then echo "$img"; exit 0; fi
fi

# name -> path (relative to $moddir), from modules.dep; module names treat - and _ alike
declare -A path deps
while IFS=: read -r key rest; do
	name=${key##*/}; name=${name%%.ko*}; name=${name//-/_}
	path[$name]=$key
	deps[$name]=$rest
done < "$moddir/modules.dep"
declare -A builtin
while read -r key; do
	name=${key##*/}; name=${name%%.ko*}; builtin[${name//-/_}]=1
done < "$moddir/modules.builtin"

# Depth-first over modules.dep, dependencies before dependents.
order=()
declare -A seen
resolve() {
	local name=${1//-/_} dep
	[ -n "${seen[$name]:-}" ] && return
	seen[$name]=1
	if [ -z "${path[$name]:-}" ]; then
		[ -n "${builtin[$name]:-}" ] && return
		echo "mkinitramfs: module $name is neither in modules.dep nor built in ($kver)" >&2
		exit 1
	fi
	for dep in ${deps[$name]}; do
		dep=${dep##*/}; resolve "${dep%%.ko*}"
	done
	order+=("$name")
}
for m in "${wanted[@]}"; do resolve "$m"; done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,etc,lib/ftpx}
cp "$busybox" "$work/bin/busybox"
install -m 0755 "$init" "$work/init"
# busybox insmod takes plain .ko files only: decompress what Debian ships
# compressed (6.12 uses .ko.xz). A module's signature sits inside the
# compressed payload, so the decompressed file is still the signed module.
for name in "${order[@]}"; do
	src=$moddir/${path[$name]}
	dst=$work/lib/ftpx/$name.ko
	case "$src" in
	*.ko) cp "$src" "$dst" ;;
	*.ko.xz) xz -dc "$src" > "$dst" ;;
	*.ko.zst) zstd -qdc "$src" > "$dst" ;;
	*.ko.gz) gzip -dc "$src" > "$dst" ;;
	*) echo "mkinitramfs: unknown module format: $src" >&2; exit 1 ;;
	esac
	echo "$name" >> "$work/etc/ftpx-modules"
done
touch "$work/etc/ftpx-modules"

mkdir -p "$cache"
# newc, uncompressed: the kernel unpacks it fastest and it is only ~3 MB.
(cd "$work" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc --quiet) > "$img.tmp.$$"
mv -f "$img.tmp.$$" "$img"
echo "$img"
