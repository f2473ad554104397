#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the test guest built by tools/vmtest.sh.  It loads winvm.ko, runs
# the programs listed in /tests/TESTS (or /winvm-demo), unloads the module,
# asks kmemleak for leaks and powers off.  Everything goes to the serial
# console; lines starting with "WINVM-" are markers parsed by the host, so
# their format is part of the contract with tools/vmtest.sh.
export PATH=/bin
export HOME=/tmp

mark() { echo "WINVM-$*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# IMA's policy file lives there (tests skip without it).
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
# shellcheck source=/dev/null
. /vmtest.conf		# MODE, TEST_TIMEOUT (written by the host)

mark INIT-START "$(uname -r)"
# The boot log has already gone to the console; clearing the ring buffer
# makes the dump at the end hold only what happened while testing.
dmesg -c >/dev/null
# Windows-style processes map far more regions than Linux's default allows.
echo 262144 >/proc/sys/vm/max_map_count

KL=/sys/kernel/debug/kmemleak
if [ -e $KL ]; then
	# Forget suspects from boot so only the module's leaks are reported.
	echo scan >$KL
	echo clear >$KL
fi

# The first memory cgroup turns on static keys all over the kernel, and
# patching code other vCPUs are running is where multi-threaded TCG can
# fail (tools/vmtest.sh, emulator_fault): get that done now, while the
# guest is idle, instead of in the middle of a test.
mkdir -p /sys/fs/cgroup
if mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null; then
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null &&
		mkdir /sys/fs/cgroup/warmup 2>/dev/null
fi

# /dev/ram0 for O_DIRECT tests, /dev/ram1 for the ext4 disk (Debian builds
# brd as a module).
[ -f /brd.ko ] && insmod /brd.ko rd_nr=2 rd_size=16384
# ext4 (and what it needs) and overlayfs, where Debian builds them as
# modules; tests that need a missing one skip.
for m in crc16 mbcache jbd2 crc32c_generic ext4 overlay; do
	[ -f /$m.ko ] && insmod /$m.ko
done
# An ext4 filesystem with a known UUID (/etc/winvm-ext4.uuid) at /mnt/ext4;
# ram0 stays raw for the O_DIRECT test.
if [ -f /ext4.img ] && [ -b /dev/ram1 ]; then
	mkdir -p /mnt/ext4
	dd if=/ext4.img of=/dev/ram1 bs=1M 2>/dev/null &&
		mount -t ext4 /dev/ram1 /mnt/ext4 ||
		echo "guest: no ext4 at /mnt/ext4"
	rm -f /ext4.img
fi
insmod /winvm.ko
mark INSMOD "rc=$?"
if [ -c /dev/winvm ]; then mark DEV ok; else mark DEV missing; fi

# KUnit suites in winvm.ko (debug kernel only) ran during insmod; their
# KTAP results live in debugfs until rmmod, so copy them to the console
# now, one suite between a BEGIN/END pair.
for d in /sys/kernel/debug/kunit/winvm_*; do
	[ -r "$d/results" ] || continue
	mark KUNIT-BEGIN "${d##*/}"
	# Through a file, like test output, so it reaches the console in one go.
	cat "$d/results" >/tmp/kunit 2>&1
	cat /tmp/kunit
	mark KUNIT-END "${d##*/}"
done
rm -f /tmp/kunit

# What a hang looks like from inside: every task's state, wait channel and
# kernel stack, then the kernel's own list of blocked tasks.
dump_tasks() {
	for p in /proc/[0-9]*; do
		# Kernel threads have no VmSize line; only user tasks matter here.
		grep -q "^VmSize" "$p/status" 2>/dev/null || continue
		read -r comm <"$p/comm" 2>/dev/null
		echo "task ${p#/proc/} $comm $(grep '^State' "$p/status" 2>/dev/null) wchan=$(cat "$p/wchan" 2>/dev/null)"
		for t in "$p"/task/*; do
			[ "$t" = "$p/task/${p#/proc/}" ] || echo " thread ${t##*/}: $(grep '^State' "$t/status" 2>/dev/null)"
			sed 's/^/   /' "$t/stack" 2>/dev/null
		done
	done
	echo w >/proc/sysrq-trigger 2>/dev/null
	sleep 2
}

# A hung test must not eat the host's whole time budget silently: the
# watchdog prints what the test wrote so far and powers the guest off.
run_one() {	# <name> <path> [harness filter args...]
	name=$1 path=$2
	shift 2
	mark TEST-BEGIN "$name"
	(
		sleep "$TEST_TIMEOUT"
		cat /tmp/out
		mark TEST-TIMEOUT "$name"
		dump_tasks
		reboot -f
	) &
	wd=$!
	# Output goes through a file so kernel messages printed meanwhile
	# cannot split TAP lines on the shared console.
	(cd /tmp && "$path" "$@") >/tmp/out 2>&1 </dev/null
	rc=$?
	kill $wd 2>/dev/null
	cat /tmp/out
	mark TEST-END "$name rc=$rc"
}

# /tests/TESTS: one test per line, its name and then any kselftest harness
# filter (VMTEST_ONLY=name:case; the host allows only [A-Za-z0-9_.-] in
# them, so word splitting is safe).
if [ "$MODE" = demo ]; then
	mark PLAN winvm-demo
	run_one winvm-demo /winvm-demo
else
	# shellcheck disable=SC2046 # one word per test name
	mark PLAN $(while read -r t _; do echo "$t"; done </tests/TESTS)
	while read -r t args; do
		# shellcheck disable=SC2086 # $args is a word list on purpose
		[ -n "$t" ] && run_one "$t" "/tests/$t" $args
	done </tests/TESTS
fi

rmmod winvm
mark RMMOD "rc=$?"

if [ -e $KL ]; then
	# kmemleak ignores objects younger than 5 s and needs two scans to be
	# sure an object is really unreferenced.
	sleep 6
	echo scan >$KL
	sleep 2
	echo scan >$KL
	mark KMEMLEAK-BEGIN
	cat $KL
	mark KMEMLEAK-END
fi

mark DMESG-BEGIN
dmesg
mark DMESG-END
mark DONE
# No ACPI in the debug kernel: reboot -f plus QEMU's -no-reboot ends the run.
reboot -f
