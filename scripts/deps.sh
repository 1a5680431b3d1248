#!/usr/bin/env bash
# Install, idempotently, every Debian package the build, tests and demo need.
# Versions are resolved by apt at install time; nothing here pins one.
# The extra FTP servers conflict with vsftpd (all Provide ftp-server), so they
# are unpacked, not installed, into $FTPX_CACHE/servers.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${FTPX_CACHE:-$top/.cache}
export DEBIAN_FRONTEND=noninteractive

pkgs=(
	build-essential make gcc clang llvm libclang-rt-dev pkg-config sparse kmod bc
	libmnl-dev libnetfilter-conntrack-dev libssl-dev
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64
	qemu-system-x86 busybox-static xz-utils zstd cpio
	nftables iptables conntrack conntrackd iproute2 tcpdump procps psmisc
	vsftpd curl lftp python3 openssl socat
	dkms debhelper dh-dkms devscripts lintian fakeroot
	valgrind
	libhiredis0.14 libmemcached11 libmemcachedutil2 libsodium23 libidn2-0
	libpcre2-posix3 libssl3 libwrap0 libcap2 libpam0g libgeoip1 libsasl2-2
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	apt-get update -qq
	# policy-rc.d keeps package scripts from starting daemons on the host
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	rm -f /usr/sbin/policy-rc.d
fi

# proftpd and pure-ftpd: unpacked beside the installed vsftpd
mkdir -p "$cache/servers" "$cache/debs"
for p in proftpd-core proftpd-mod-crypto pure-ftpd; do
	[ -e "$cache/servers/.$p" ] && continue
	(cd "$cache/debs" && rm -f "${p}"_*.deb && apt-get download -qq "$p" >/dev/null)
	dpkg-deb -x "$cache/debs/${p}"_*.deb "$cache/servers"
	touch "$cache/servers/.$p"
done
echo "deps: ok"
