#!/usr/bin/env bash
# The module as DKMS installs it: the nf_ftpx.ko[.xz] that `dkms install`
# produced on the host (scripts/dkms-test.sh keeps it in build/KVER/dkms/) goes
# where dkms puts it, /lib/modules/KVER/updates/dkms/, with the modules.*
# index depmod made on the host for this kernel's modules plus it (depmod
# here would read every module of the kernel over 9p: minutes under TCG).
# From there it must load by name with its dependencies (modprobe), take its
# options from /etc/modprobe.d, and load by itself when a ruleset names
# helper "ftpx" (the nfct-helper-ftpx alias). The guest's / is an overlay on
# a tmpfs, so none of this reaches the host; the case still undoes it.
. "$(dirname "$0")/../lib/runner.sh"
. "$(dirname "$0")/../lib/ftp.sh"

k=$(uname -r)
built=$FTPX_TOP/build/$k/dkms
src=$(ls "$built/"nf_ftpx.ko* 2>/dev/null | head -n 1)
[ -n "$src" ] && [ -f "$built/modules.dep" ] ||
	fail "no build/$k/dkms/nf_ftpx.ko* and modules.dep: run scripts/dkms-test.sh on the host first"
dst=/lib/modules/$k/updates/dkms
conf=/etc/modprobe.d/ftpx-60-dkms.conf
[ ! -e "$dst/${src##*/}" ] || fail "$dst/${src##*/} already exists"

saved=$(ftpx_tmpdir)/modules-index
mkdir -p "$saved"
cp -a /lib/modules/"$k"/modules.* "$saved/"
undo() {
	modprobe -r nf_ftpx 2>/dev/null
	rm -f "$dst/${src##*/}" "$conf"
	rmdir "$dst" 2>/dev/null
	cp -a "$saved"/modules.* /lib/modules/"$k"/
}
cleanup_push undo

mkdir -p "$dst"
cp "$src" "$dst/"
cp "$built"/modules.* /lib/modules/"$k"/
check_eq "modinfo -n finds the dkms copy" "$(modinfo -n nf_ftpx)" "$dst/${src##*/}"

# the same sources as the module the other cases test
want=$(modinfo -F srcversion "$FTPX_TOP/build/$k/nf_ftpx.ko")
check_eq "dkms build has the srcversion of make all-kernels'" \
	"$(modinfo -F srcversion nf_ftpx)" "$want"

deps() { modprobe --show-depends nf_ftpx | grep -q "/$1\.ko"; }
check "modprobe resolves nf_conntrack for it" deps nf_conntrack
check "modprobe resolves nf_nat for it" deps nf_nat
check "modprobe nf_ftpx" modprobe nf_ftpx
check "nf_ftpx loaded" test -d /sys/module/nf_ftpx
check "helper \"ftpx\" is usable from nft" helper_available ftpx
check "modprobe -r nf_ftpx" modprobe -r nf_ftpx

# options from /etc/modprobe.d, as docs/config.md tells users
echo "options nf_ftpx pasv=50000-50009 data_max=4" > "$conf"
check "modprobe with /etc/modprobe.d options" modprobe nf_ftpx
check_eq "pasv option applied" "$(cat /sys/module/nf_ftpx/parameters/pasv 2>/dev/null)" 50000-50009
check_eq "data_max option applied" "$(cat /sys/module/nf_ftpx/parameters/data_max 2>/dev/null)" 4
check "modprobe -r nf_ftpx" modprobe -r nf_ftpx
rm -f "$conf"

# A ruleset that names the helper loads the module (alias nfct-helper-ftpx).
check "not loaded before the ruleset" test ! -d /sys/module/nf_ftpx
check "an nft ct helper of type \"ftpx\" autoloads the module" helper_available ftpx
check "nf_ftpx loaded by the ruleset" test -d /sys/module/nf_ftpx
check "modprobe -r nf_ftpx after the ruleset is gone" modprobe -r nf_ftpx

# ftpxctl asks for generic netlink family "nf_ftpx": its alias loads it too
check "ftpxctl stats loads the module (genl family alias)" "$FTPX_TOP/userspace/ftpxctl" stats
check "nf_ftpx loaded by ftpxctl" test -d /sys/module/nf_ftpx
test_done
