# SPDX-License-Identifier: GPL-2.0-only
#
# Developer entry points.  The module itself is built by Kbuild; every test
# runs inside QEMU guests (tools/vmtest.sh), never on this machine's kernel.
#
#   make module   build winvm.ko for the Debian 6.1 and 6.12 header trees
#   make test     selftests on 6.1, 6.12 and the debug kernel, plus DKMS
#   make stress   fuzzing, races, fault injection, limits on the debug kernel
#   make demo     boot 6.12 and run the demo
#   make lint     checkpatch --strict and sparse
#   make lib      libwinvm (shared + static) into build/lib
#   make install  libwinvm, its headers, winvm.pc and winvm-map
#                 (PREFIX=/usr/local, DESTDIR= as usual)
#   make clean    remove build products (keeps kernels and the debug kernel)

# Package installation and DKMS need root; everything else does not.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: all module test demo lint clean deps bench lib winvm-map install stress

all: module

deps:
	$(SUDO) bash tools/install-deps.sh

module:
	bash tools/vmtest.sh --build-only 6.1 6.12

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

clean:
	rm -rf build/mod build/selftests build/demo build/initramfs build/logs \
		build/lint build/checkpatch build/ksft
