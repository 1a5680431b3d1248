#!/usr/bin/env bash
# The nf_ftpx demo: one command from a fresh machine. Installs what is
# missing, builds the module and tools, boots a Debian kernel under qemu and,
# inside it, runs scripts/demo-guest.sh: a client, a NAT router with nf_ftpx
# and an FTP server behind it, a plain FTP and an FTPS transfer, and what the
# helper did.
#
#   scripts/demo.sh [KVER]      (default: the newest installed Debian kernel)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

echo "== installing dependencies (Debian packages, idempotent)"
scripts/deps.sh
echo "== building nf_ftpx for every installed kernel, and the tools"
make -s all-kernels
make -s -C userspace
k=${1:-$(scripts/kernels.sh | tail -n 1)}
echo "== booting $k under qemu"
exec scripts/vm-run.sh --timeout 900 --out "$top/build/$k/demo" "$k" scripts/demo-guest.sh
