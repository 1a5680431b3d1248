# SPDX-License-Identifier: GPL-2.0
# nf_ftpx: `make` builds the module for the running (or KVER=) kernel;
# `make all-kernels` for every installed Debian kernel, each in build/<kver>/.
KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
PWD := $(shell pwd)
KERNELS = $(shell scripts/kernels.sh 2>/dev/null)
VERSION = $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf 2>/dev/null)
MODSRC = Kbuild nf_ftpx

.PHONY: all module all-kernels userspace unit fuzz check test demo clean \
	sparse bench dkms-install deb test-debug

all: module userspace

module:
	$(MAKE) -C $(KDIR) M=$(PWD) W=1 modules

# One copy of the sources per kernel, so two builds never share objects.
all-kernels:
	@set -e; for k in $(KERNELS); do \
		mkdir -p build/$$k/src; \
		cp -a $(MODSRC) build/$$k/src/; \
		$(MAKE) -s -C /lib/modules/$$k/build M=$(PWD)/build/$$k/src W=1 modules; \
		cp build/$$k/src/nf_ftpx.ko build/$$k/nf_ftpx.ko; \
		echo "built build/$$k/nf_ftpx.ko"; \
	done

# The source tree DKMS builds from: what Kbuild needs and nothing else (no
# build products). DESTDIR for packaging (debian/rules uses it).
DKMS_SRC = $(DESTDIR)/usr/src/nf-ftpx-$(VERSION)
dkms-install:
	@test -n "$(VERSION)" || { echo "no PACKAGE_VERSION in dkms.conf" >&2; exit 1; }
	install -d $(DKMS_SRC)/nf_ftpx
	install -m 0644 Kbuild dkms.conf $(DKMS_SRC)/
	install -m 0644 nf_ftpx/*.c nf_ftpx/*.h $(DKMS_SRC)/nf_ftpx/

# Debian packages nf-ftpx-dkms and ftpxd, built in a copy of the tree;
# the .deb files land in build/debs/.
deb:
	scripts/build-debs.sh

sparse:
	$(MAKE) -C $(KDIR) M=$(PWD) C=2 W=1 modules

userspace:
	$(MAKE) -C userspace

unit:
	$(MAKE) -C tests/unit check check-userspace

fuzz:
	$(MAKE) -C tests/fuzz run SECONDS=$(or $(SECONDS),30)

test:
	tests/run.sh

# The VM suite on a KASAN/kmemleak/lockdep kernel built from Debian's source
# (cached); see docs/testing.md for its run time and cadence.
test-debug:
	scripts/test-debug.sh

# Benchmarks against the in-tree helper, a static forward and a UDP echo,
# measured in one run; writes docs/bench.md (scripts/bench.sh --quick: CI smoke).
bench: all-kernels userspace
	scripts/bench.sh

demo:
	scripts/demo.sh

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	rm -rf build
	-$(MAKE) -C userspace clean
	-$(MAKE) -C tests/unit clean
	-$(MAKE) -C tests/fuzz clean
	-$(MAKE) -C tests/bench clean
