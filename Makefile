# SPDX-License-Identifier: GPL-2.0-only
#
# Developer entry points.  The module itself is built by Kbuild; every test
# runs inside QEMU guests (tools/vmtest.sh), never on this machine's kernel.
#
#   make          build winvm.ko here, against the running kernel's headers
#                 (KDIR=/lib/modules/$(uname -r)/build; another tree with
#                 make KDIR=/usr/src/linux-headers-<release>); same as
#                 make module
#   make modules-test  build winvm.ko for the Debian 6.1 and 6.12 header
#                 trees the guests boot, in build/mod/ (what make test does)
#   make test     selftests on 6.1, 6.12 and the debug kernel, plus DKMS
#   make stress   fuzzing, races, fault injection, limits on the debug kernel
#   make demo     boot 6.12 and run the demo
#   make lint     checkpatch --strict and sparse, and check-judge
#   make check-judge  the console-log judge over tools/testdata/ (host only)
#   make lib      libwinvm (shared + static) into build/lib
#   make install  libwinvm, its headers, winvm.pc and winvm-map
#                 (PREFIX=/usr/local, DESTDIR= as usual)
#   make clean    remove build products, in-tree Kbuild output included
#                 (keeps kernels and the debug kernel)

# Package installation and DKMS need root; everything else does not.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# The usual out-of-tree module build: Kbuild reads the Kbuild file here.
KDIR ?= /lib/modules/$(shell uname -r)/build
# Installed header trees, for the message when KDIR is missing.
HEADER_TREES = $(patsubst %/Module.symvers,%,$(wildcard /usr/src/linux-headers-*/Module.symvers))

.PHONY: all module modules-test check-judge test demo lint clean deps bench lib \
	winvm-map install stress

all: module

deps:
	$(SUDO) bash tools/install-deps.sh

module:
	@test -d "$(KDIR)" || { \
		echo "no kernel build tree at $(KDIR): install the headers"; \
		echo "(apt-get install linux-headers-$$(uname -r)) or point KDIR at"; \
		echo "one, e.g. make KDIR=/usr/src/linux-headers-<release>"; \
		echo "(here: $(or $(HEADER_TREES),none))"; \
		exit 1; } >&2
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules

modules-test:
	bash tools/vmtest.sh --build-only 6.1 6.12

check-judge:
	bash tools/check-judge.sh

test: deps
	bash tools/vmtest.sh --dkms 6.1 6.12 debug

demo: deps
	bash tools/vmtest.sh --demo

stress: deps
	bash tools/fuzz/stress.sh

bench: deps
	bash tools/bench.sh 6.12

lint: deps
	bash tools/lint.sh

lib:
	$(MAKE) -C lib

winvm-map:
	$(MAKE) -C tools/winvm-map

install:
	$(MAKE) -C lib install
	$(MAKE) -C tools/winvm-map install

# Kbuild's own clean when a kernel tree is at hand, and the same products
# by name when not, so a clean never needs headers.
clean:
	if [ -d "$(KDIR)" ]; then $(MAKE) -C "$(KDIR)" M="$(CURDIR)" clean; fi
	rm -f winvm.ko winvm.mod winvm.mod.c winvm.mod.o winvm.o .winvm*.cmd \
		module/*.o module/.*.cmd module/.*.d .module-common.o .*.cmd \
		Module.symvers modules.order
	rm -rf .tmp_versions
	rm -rf build/mod build/selftests build/demo build/initramfs build/logs \
		build/lint build/checkpatch build/ksft
