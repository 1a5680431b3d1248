#!/usr/bin/env bash
# Usage: build-warnmod.sh KVER
# Build the harness's test-only module (tests/warnmod) for kernel KVER into
# build/KVER/warnmod.ko. Kbuild writes its objects next to the sources, so each
# kernel builds in its own copy (build/KVER/warnmod/) and two kernels never
# share (or clobber) an object file.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kver=${1:?usage: build-warnmod.sh KVER}
dir=$top/build/$kver/warnmod
mkdir -p "$dir"
# -p keeps the sources' times, so an unchanged copy does not rebuild
cp -p "$top"/tests/warnmod/{warnmod.c,Kbuild} "$dir/"
make -s -C "/lib/modules/$kver/build" M="$dir" modules
cp "$dir/warnmod.ko" "$top/build/$kver/warnmod.ko"
