#!/usr/bin/env bash
# Print the installed Debian kernels the module is built and tested against, one
# per line, oldest first. A kernel counts only when both its image (to boot it
# in qemu) and its headers (to build against it) are installed; the versions
# move with Debian's updates, so they are found at run time, never listed here.
set -euo pipefail
for img in /boot/vmlinuz-*; do
	[ -e "$img" ] || continue
	kver=${img#/boot/vmlinuz-}
	if [ -d "/lib/modules/$kver/build" ]; then printf '%s\n' "$kver"; fi
done | sort -V
