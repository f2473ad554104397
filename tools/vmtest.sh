#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build winvm.ko and the selftests, boot each test kernel under QEMU (TCG)
# with a throw-away initramfs, run the tests inside, and judge the console
# log (tools/vmtest-judge.sh: test results, KUnit, kernel splats, rmmod,
# kmemleak).  Nothing is ever loaded into this machine's own kernel.
#
# usage: tools/vmtest.sh [--dkms] [--demo] [--build-only] [KERNEL...]
#   KERNEL: 6.1 6.12 debug (default: all three)
#   --dkms        also dkms-build for both Debian header trees and boot the
#                 DKMS-built module on 6.12 (needs root or sudo)
#   --demo        boot 6.12 and run the demo instead of the selftests
#   --build-only  only build the module for the given kernels
# environment:
#   VMTEST_TIMEOUT     host-side limit per kernel in s (600; debug: 1500)
#   VMTEST_TESTS_DIR   use prebuilt tests (a dir with TESTS) instead of
#                      building selftests/
#   VMTEST_ONLY        run only these tests, comma separated: NAME (a line
#                      of TESTS, e.g. view) or NAME:CASE, which hands the
#                      kselftest harness "-r CASE" when CASE has a dot
#                      (FIXTURE.TEST, FIXTURE.VARIANT.TEST) and "-t CASE"
#                      (that test in every fixture) when not; e.g.
#                      VMTEST_ONLY=info,alloc:winvm.zero_size_rejected
#   WINVM_SRC          module source tree other than this checkout
#   VMTEST_CPU         QEMU -cpu model under TCG (max; max,la57=off for
#                      4-level paging)
#   VMTEST_KVM=1       use KVM instead of TCG (hangs on some machines)
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=${WINVM_SRC:-$ROOT}	# where Kbuild, module/ and uapi/ are
B=$ROOT/build
LOGS=$B/logs
# Next to the real script: tools/bench.sh runs it through a link.
JUDGE=$(dirname "$(readlink -f "$0")")/vmtest-judge.sh
# Modules of the Debian kernels the guest loads besides winvm, in load order
# (tools/install-deps.sh unpacks them): ext4 and what it needs, overlayfs.
GUEST_MODS="crc16 mbcache jbd2 crc32c_generic ext4 overlay"
# The guest's ext4 RAM disk (/mnt/ext4) has this fixed UUID, so a test can
# name the filesystem (an IMA policy rule with fsuuid=); the guest finds it
# in /etc/winvm-ext4.uuid.
EXT4_UUID=3b1f4a6e-5c2d-4e8f-9a70-77696e766d31

dkms=0 demo=0 build_only=0 kernels=()
for a in "$@"; do
	case $a in
	--dkms) dkms=1 ;;
	--demo) demo=1 ;;
	--build-only) build_only=1 ;;
	6.1|6.12|debug) kernels+=("$a") ;;
	*) sed -n '9,28s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
if [ ${#kernels[@]} = 0 ]; then
	if [ $demo = 1 ]; then kernels=(6.12); else kernels=(6.1 6.12 debug); fi
fi
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
mkdir -p "$LOGS"

die() { echo "vmtest: $*" >&2; exit 1; }

debver() {	# 6.1|6.12 -> Debian kernel release
	local f=$B/kernels/v${1/./}
	[ -f "$f" ] || die "$f missing: run tools/install-deps.sh first"
	cat "$f"
}

# Sets KDIR (kernel build tree) and VMLINUZ for a kernel name.
resolve_kernel() {
	local d
	case $1 in
	6.1|6.12)
		d=$(debver "$1")
		KDIR=/usr/src/linux-headers-$d
		VMLINUZ=$B/kernels/$d/vmlinuz
		BRD=$B/kernels/$d/brd.ko
		KMODS=$B/kernels/$d ;;
	debug)
		echo "[debug] kernel: tools/build-debug-kernel.sh (cached; ~15 min when cold)"
		d=$("$ROOT/tools/build-debug-kernel.sh") || return 1
		KDIR=$d/obj
		VMLINUZ=$d/vmlinuz
		BRD='' KMODS='' ;;	# built in
	esac
	if [ ! -d "$KDIR" ] || [ ! -f "$VMLINUZ" ]; then
		echo "no kernel/headers for $1" >&2
		return 1
	fi
}

# Kbuild builds inside the source dir, so every kernel gets its own copy;
# excluded objects survive --delete and keep rebuilds incremental.
copy_src() {	# <dest dir>
	local extra=()
	# The version lives in dkms.conf, which Kbuild may read.
	[ -f "$SRC/dkms.conf" ] && extra=("$SRC/dkms.conf")
	mkdir -p "$1"
	rsync -a --delete --exclude='*.o' --exclude='.*.cmd' --exclude='.*.d' \
		"$SRC/Kbuild" "$SRC/module" "$SRC/uapi" "${extra[@]}" "$1/"
}

# Prints every compiler/modpost warning; any one fails the build.
check_warnings() {	# <log>
	if grep -i 'warning:' "$1"; then
		echo "build has warnings (see $1)" >&2
		return 1
	fi
}

build_module() {	# <kernel name> <KDIR>
	local dir=$B/mod/$1 log=$LOGS/module-$1.log
	[ -f "$SRC/Kbuild" ] || { echo "no Kbuild in $SRC" >&2; return 1; }
	copy_src "$dir" || return 1
	if ! make -C "$2" M="$dir" modules >"$log" 2>&1; then
		tail -40 "$log" >&2
		echo "module build failed for $1 (see $log)" >&2
		return 1
	fi
	check_warnings "$log" || return 1
	echo "module build: ok ($1)"
}

DKMS_VER=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$ROOT/dkms.conf")

# Register the current tree with DKMS and build it for both Debian kernels,
# never installing it: the host kernel is not one we test.  The 6.12 build
# is kept for the 6.12 guest and the registration removed again, so that a
# later kernel-headers install on this host does not autoinstall (dkms.conf
# says AUTOINSTALL, for users) a test build.
dkms_build_all() {
	local src=/usr/src/winvm-$DKMS_VER kv log rc=0 st
	# Captured, not piped into grep -q: with pipefail an early grep exit
	# makes the pipeline fail.  dkms's stderr is readelf noise.
	st=$($SUDO dkms status -m winvm 2>/dev/null)
	if grep -q ': installed' <<<"$st"; then
		echo "winvm is DKMS-installed on this host; remove it first (dkms remove winvm/$DKMS_VER --all)" >&2
		return 1
	fi
	# Re-adding an already-known version fails, so start from scratch.
	if grep -q "^winvm/${DKMS_VER}[,:]" <<<"$st"; then
		$SUDO dkms remove -m winvm -v "$DKMS_VER" --all >/dev/null 2>&1 || return 1
	fi
	$SUDO rm -rf "$src"
	$SUDO mkdir -p "$src"
	$SUDO cp -r "$SRC/Kbuild" "$SRC/module" "$SRC/uapi" "$ROOT/dkms.conf" "$src/" || return 1
	$SUDO dkms add -m winvm -v "$DKMS_VER" >/dev/null 2>&1 || { echo "dkms add failed" >&2; return 1; }
	for kv in "$(debver 6.1)" "$(debver 6.12)"; do
		log=$LOGS/dkms-$kv.log
		# Only the compiler's output counts: dkms itself warns about
		# things like a missing .comment section in the headers.
		if $SUDO dkms build -m winvm -v "$DKMS_VER" -k "$kv" >"$log" 2>&1 &&
			$SUDO cat "/var/lib/dkms/winvm/$DKMS_VER/$kv/x86_64/log/make.log" >"$log.make" &&
			check_warnings "$log.make"; then
			echo "dkms build: ok ($kv)"
		else
			tail -40 "$log" >&2
			echo "dkms build: FAILED ($kv, see $log)"
			rc=1
		fi
	done
	mkdir -p "$B/mod"
	rm -f "$B/mod/dkms-winvm.ko"
	dkms_ko "$(debver 6.12)" "$B/mod/dkms-winvm.ko" || rc=1
	$SUDO dkms remove -m winvm -v "$DKMS_VER" --all >/dev/null 2>&1 || rc=1
	$SUDO rm -rf "$src"
	return $rc
}

# DKMS compresses modules like the kernel does; the guest's insmod cannot
# decompress, so hand it a plain .ko.
dkms_ko() {	# <kernel release> <dest>
	local f
	for f in "/var/lib/dkms/winvm/$DKMS_VER/$1/x86_64/module/winvm.ko"*; do break; done
	case $f in
	*\*) return 1 ;;
	*.xz) xz -dc "$f" >"$2" ;;
	*.zst) zstd -qdc "$f" >"$2" ;;
	*.gz) gzip -dc "$f" >"$2" ;;
	*) cp "$f" "$2" ;;
	esac
}

build_tests() {
	if [ -n "${VMTEST_TESTS_DIR:-}" ]; then
		TESTS_DIR=$VMTEST_TESTS_DIR
	else
		TESTS_DIR=$B/selftests
		[ -f "$ROOT/selftests/Makefile" ] || { echo "no selftests/Makefile" >&2; return 1; }
		if ! make -C "$ROOT/selftests" OUT="$TESTS_DIR" >"$LOGS/selftests-build.log" 2>&1; then
			tail -40 "$LOGS/selftests-build.log" >&2
			echo "selftests build failed (see $LOGS/selftests-build.log)" >&2
			return 1
		fi
	fi
	[ -f "$TESTS_DIR/TESTS" ] || { echo "$TESTS_DIR/TESTS missing" >&2; return 1; }
	select_tests
}

# Sets RUN (the guest's /tests/TESTS: a test name per line, then any
# harness filter arguments) and EXPECTED (the names, space separated) from
# TESTS and VMTEST_ONLY.  A bare NAME runs all of that test even if
# NAME:CASE is given too.
select_tests() {
	local names=() items=() n item name case
	local -A want=() args=() all=()
	while read -r n; do
		[ -n "$n" ] && { names+=("$n"); want[$n]=0; }
	done <"$TESTS_DIR/TESTS"
	if [ -z "${VMTEST_ONLY:-}" ]; then
		for n in "${names[@]}"; do want[$n]=1; all[$n]=1; done
	else
		IFS=, read -ra items <<<"$VMTEST_ONLY"
		for item in "${items[@]}"; do
			[ -n "$item" ] || continue
			name=${item%%:*}
			[ -n "${want[$name]+x}" ] || { echo "VMTEST_ONLY: no test $name in $TESTS_DIR/TESTS" >&2; return 1; }
			want[$name]=1
			if [ "$name" = "$item" ]; then all[$name]=1; continue; fi
			case=${item#*:}
			# The guest splits these on blanks: allow only what a
			# FIXTURE.VARIANT.TEST name can hold.
			[[ $case =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] ||
				{ echo "VMTEST_ONLY: bad test case '$case'" >&2; return 1; }
			if [[ $case == *.* ]]; then args[$name]+=" -r $case"; else args[$name]+=" -t $case"; fi
		done
	fi
	RUN='' EXPECTED=''
	for n in "${names[@]}"; do
		[ "${want[$n]}" = 1 ] || continue
		EXPECTED+="$n "
		if [ -n "${all[$n]:-}" ]; then RUN+="$n"$'\n'; else RUN+="$n${args[$n]}"$'\n'; fi
	done
	[ -n "$RUN" ] || { echo "VMTEST_ONLY selects no test" >&2; return 1; }
}

build_demo() {
	if ! make -C "$ROOT/tools/demo" OUT="$B/demo" >"$LOGS/demo-build.log" 2>&1; then
		tail -40 "$LOGS/demo-build.log" >&2
		echo "demo build failed (see $LOGS/demo-build.log)" >&2
		return 1
	fi
}

# An 8 MiB ext4 image with a fixed UUID, made once (mkfs needs no root on
# an image file) and cached; the guest copies it onto /dev/ram1.
ext4_image() {	# -> prints path
	local img=$B/ext4-$EXT4_UUID.img mkfs
	if [ ! -f "$img" ]; then
		mkfs=$(PATH=$PATH:/usr/sbin:/sbin command -v mkfs.ext4) ||
			{ echo "no mkfs.ext4: the guest gets no ext4 disk" >&2; return 1; }
		"$mkfs" -q -F -U "$EXT4_UUID" -b 4096 -I 256 -L winvm \
			-E root_owner=0:0 "$img.tmp" 8M >&2 || { rm -f "$img.tmp"; return 1; }
		mv "$img.tmp" "$img"
	fi
	echo "$img"
}

make_initramfs() {	# <kernel name> <winvm.ko> <guest test timeout> -> prints path
	local dir=$B/initramfs/$1 r a t m img
	r=$dir/root
	rm -rf "$dir"
	mkdir -p "$r"/{bin,dev,proc,sys,tmp,etc,tests}
	cp /bin/busybox "$r/bin/busybox"
	for a in $("$r/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
	done
	install -m 755 "$ROOT/tools/guest-init.sh" "$r/init"
	cp "$2" "$r/winvm.ko"
	# A RAM disk gives O_DIRECT tests a real block device.
	if [ -n "${BRD:-}" ] && [ -f "$BRD" ]; then cp "$BRD" "$r/brd.ko"; fi
	# ext4 and overlayfs for the filesystem tests (absent ones just skip).
	for m in $GUEST_MODS; do
		if [ -n "${KMODS:-}" ] && [ -f "$KMODS/$m.ko" ]; then cp "$KMODS/$m.ko" "$r/$m.ko"; fi
	done
	if img=$(ext4_image); then
		cp "$img" "$r/ext4.img"
		echo "$EXT4_UUID" >"$r/etc/winvm-ext4.uuid"
	fi
	# Tests may look up an unprivileged user to drop to.
	printf 'root:x:0:0:root:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
	if [ $demo = 1 ]; then
		cp "$B/demo/winvm-demo" "$r/winvm-demo"
		echo MODE=demo >"$r/vmtest.conf"
	else
		printf '%s' "$RUN" >"$r/tests/TESTS"
		for t in $EXPECTED; do cp "$TESTS_DIR/$t" "$r/tests/$t"; done
		echo MODE=tests >"$r/vmtest.conf"
	fi
	echo "TEST_TIMEOUT=$3" >>"$r/vmtest.conf"
	# KASAN and lockdep make the scale cases ten times slower: shorter
	# ones on the debug kernel (every case still runs; the 262 144-run
	# case keeps its size, it must pass the old code's warning threshold).
	if [ "$1" = debug ]; then
		echo "export WINVM_SCALE_ALLOCS=30000 WINVM_EXEC_PAGES=20000 WINVM_DEAD_THREADS=5000" \
			>>"$r/vmtest.conf"
	fi
	(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 >"$dir/initramfs.gz" || return 1
	echo "$dir/initramfs.gz"
}

# Reads the judge's key=value verdict (tools/vmtest-judge.sh --result)
# into J_<key>.  Guest text went into it, so it is only ever assigned,
# never run, and numbers must look like numbers.
read_verdict() {	# <file>
	local key val
	J_pass=0 J_fail=0 J_skip=0 J_splats=0 J_rmmod=none J_why='no verdict from the judge'
	while IFS='=' read -r key val; do
		case $key in
		pass|fail|skip|splats|bootsplats|finished|kunit)
			[[ $val =~ ^[0-9]+$ ]] || continue ;;
		insmod|dev|rmmod|why) ;;
		*) continue ;;
		esac
		printf -v "J_$key" '%s' "$val"
	done <"$1"
}

# Guest text for the terminal, minus control characters (escape sequences).
printable() {	# <file>
	LC_ALL=C tr -d '\000-\010\013-\037\177' <"$1"
}

TOT_P=0 TOT_F=0 TOT_S=0 any_fail=0
# Every failure again just above the final line, where a log tail shows it.
FAILS=()
RETRIED=()
# QEMU runs in the background, where an interrupt does not reach it.
QPID=
trap '[ -n "$QPID" ] && kill "$QPID" 2>/dev/null; exit 130' INT TERM

kernel_failed() {	# <kernel> <reason>
	echo "[$1] FAILED: $2"
	FAILS+=("[$1] $2")
	TOT_F=$((TOT_F + 1)); any_fail=1
}

# Boots one guest; sets rc (QEMU's exit status) and secs.
boot_guest() {	# <kernel name> <initramfs> <log> <limit> <cmdline>
	local k=$1 log=$3 limit=$4 t0 qpid
	local accel=(-accel "tcg${VMTEST_TCG_OPTS:+,$VMTEST_TCG_OPTS}" -cpu "${VMTEST_CPU:-max}")
	[ "${VMTEST_KVM:-0}" = 1 ] && accel=(-accel kvm -cpu host)
	echo "[$k] booting $(basename "$(dirname "$VMLINUZ")") (limit ${limit}s, log $log)"
	t0=$(date +%s)
	rc=0
	: >"$log"
	timeout -k 10 "$limit" qemu-system-x86_64 "${accel[@]}" -smp 2 -m 2048 \
		-nodefaults -no-reboot -display none -serial "file:$log" \
		-kernel "$VMLINUZ" -initrd "$2" -append "$5" </dev/null &
	qpid=$! QPID=$!
	# Runs take minutes under TCG; show each finished test as it happens.
	tail --pid=$qpid -s 1 -n +1 -f "$log" 2>/dev/null |
		grep --line-buffered -ao 'WINVM-TEST-END .*' |
		while read -r _ name st; do
			echo "  [$k] ${name//[^[:graph:]]/?} ${st//[^[:graph:] ]/} ($(($(date +%s) - t0))s)"
		done &
	wait $qpid || rc=$?
	wait $! || true
	secs=$(($(date +%s) - t0))
}

# Did the guest die of the emulator rather than of anything under test?
# Prints why and succeeds for two signatures only:
#  - the kernel never reached /init (nothing of ours had run yet);
#  - an "Oops: int3" with no winvm frame: a CPU executing a breakpoint the
#    kernel's text patching (static keys) had already removed, which
#    multi-threaded TCG can do when another vCPU patches code it is
#    running (seen on the stock 6.12 kernel at boot, before any module).
emulator_fault() {	# <log>
	local oops
	if ! grep -aq 'WINVM-INIT-START' "$1"; then
		echo "the kernel died before /init"
		return 0
	fi
	oops=$(tr -d '\r' <"$1" | sed -n '/Oops: int3/,/end trace/p')
	if [ -n "$oops" ] && ! echo "$oops" | grep -q 'winvm'; then
		echo "Oops: int3 at $(echo "$oops" | sed -n 's/.*RIP: [0-9]*:\([^ ]*\).*/\1/p' | head -1)"
		return 0
	fi
	return 1
}

run_kernel() {	# <kernel name>
	local k=$1 ko limit guest_limit cmdline init log res expected rc secs
	local P F S why verdict
	resolve_kernel "$k" || { kernel_failed "$k" "kernel not available"; return; }
	build_module "$k" "$KDIR" || { kernel_failed "$k" "module build"; return; }
	[ $build_only = 1 ] && return
	ko=$B/mod/$k/winvm.ko
	if [ $dkms = 1 ] && [ "$k" = 6.12 ]; then
		ko=$B/mod/dkms-winvm.ko
		[ -s "$ko" ] || { kernel_failed "$k" "no DKMS-built module"; return; }
		echo "[$k] using the DKMS-built module"
	fi
	if [ "$k" = debug ]; then limit=${VMTEST_TIMEOUT:-1500}; else limit=${VMTEST_TIMEOUT:-600}; fi
	# The guest gives up on a single test a bit before the host gives up on
	# the whole run, so a hang still yields that test's partial output.
	guest_limit=$((limit * 4 / 5))
	init=$(make_initramfs "$k" "$ko" "$guest_limit") ||
		{ kernel_failed "$k" "initramfs"; return; }
	log=$LOGS/$k.log
	# oops=panic + panic=-1: any oops ends the run at once instead of
	# leaving a wedged guest; with -no-reboot the "reboot" exits QEMU.
	# loglevel=7 puts every warning on the serial console.
	cmdline="console=ttyS0 loglevel=7 printk.time=1 panic=-1 oops=panic mitigations=off"
	# TCG is slow enough to look like an RCU stall at the default 21 s.
	cmdline+=" rcupdate.rcu_cpu_stall_timeout=120"
	# memfd_secret is off by default before 6.5; the tests use it.
	cmdline+=" secretmem.enable=1"
	[ "$k" = debug ] && cmdline+=" kasan_multi_shot"
	boot_guest "$k" "$init" "$log" "$limit" "$cmdline"
	# A panicking guest reboots, which QEMU (-no-reboot) reports as a clean exit.
	if ! grep -aq 'WINVM-DONE' "$log" && why=$(emulator_fault "$log"); then
		# Not a verdict on winvm: boot the same guest once more.
		cp "$log" "$log.emulator-fault"
		echo "[$k] the guest died of an emulator fault ($why; log kept as $log.emulator-fault); booting it again"
		RETRIED+=("[$k] $why: booted again")
		boot_guest "$k" "$init" "$log" "$limit" "$cmdline"
	fi

	expected=
	[ $demo = 1 ] && expected=winvm-demo
	[ $demo = 0 ] && expected=$EXPECTED
	if [ $demo = 1 ]; then
		echo "----- winvm-demo output -----"
		printable "$log" | sed -n '/WINVM-TEST-BEGIN/,/WINVM-TEST-END/{/WINVM-TEST-/d;p}'
		echo "-----------------------------"
	fi
	verdict=$LOGS/$k.verdict
	res=$(bash "$JUDGE" --kernel "$k" --expect "$expected" --result "$verdict" "$log") || true
	[ -z "$res" ] || echo "$res"
	while read -r line; do
		FAILS+=("[$k] $line")
	done < <(echo "$res" | grep -E -- '<-- FAIL|watchdog|splat|: not ok |no END marker|no test case ran' |
		sed 's/ *<-- FAIL//; s/^ *//' | head -20)
	read_verdict "$verdict"
	P=$J_pass F=$J_fail S=$J_skip

	why=
	[ "$rc" = 124 ] || [ "$rc" = 137 ] && why+=" timeout(${limit}s)"
	[ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$rc" != 137 ] && why+=" qemu-exit=$rc"
	# insmod, /dev/winvm, rmmod, DONE marker, splats, failed tests, KUnit.
	[ -z "$J_why" ] || why+=" $J_why"
	if [[ $J_why == *no-DONE-marker* ]]; then
		echo "[$k] last console lines:"
		printable "$log" | tail -25 | sed 's/^/  | /'
	fi
	printf '[%s] %d passed, %d failed, %d skipped, splats: %d, rmmod: %s, %ds%s\n' \
		"$k" "$P" "$F" "$S" "$J_splats" "$([ "$J_rmmod" = 0 ] && echo ok || echo "$J_rmmod")" \
		"$secs" "${why:+  FAIL:$why}"
	TOT_P=$((TOT_P + P)); TOT_S=$((TOT_S + S))
	if [ -n "$why" ]; then
		any_fail=1
		FAILS+=("[$k]$why")
		# A kernel-level failure counts even when every test passed.
		if [ "$F" = 0 ]; then TOT_F=$((TOT_F + 1)); else TOT_F=$((TOT_F + F)); fi
	fi
}

if [ $dkms = 1 ] && [ $build_only = 0 ]; then
	dkms_build_all || { TOT_F=$((TOT_F + 1)); any_fail=1; }
fi
if [ $build_only = 0 ]; then
	# Without test programs no kernel can be judged: report and stop.
	if ! { if [ $demo = 1 ]; then build_demo; else build_tests; fi; }; then
		echo "$TOT_P passed, $((TOT_F + 1)) failed, $TOT_S skipped"
		exit 1
	fi
fi
# The differential suite's host half (tools/diff/run.sh): the guest's
# diff_scenarios output compared with the same scenarios under Wine.
diff_suite() {	# <kernel>
	local out
	[ $demo = 0 ] && [[ " $EXPECTED " == *" diff_scenarios "* ]] || return 0
	if out=$(bash "$ROOT/tools/diff/run.sh" "$LOGS/$1.log" 2>&1); then
		echo "$out" | sed "s/^/[$1] /"
		TOT_P=$((TOT_P + 1))
	else
		echo "$out" | sed "s/^/[$1] /"
		kernel_failed "$1" "differential suite (Wine vs winvm): $(echo "$out" | tail -1)"
	fi
}

for k in "${kernels[@]}"; do
	run_kernel "$k"
	[ $build_only = 1 ] || [ "$k" != 6.12 ] || diff_suite "$k"
done
if [ $build_only = 1 ]; then
	exit $any_fail
fi
if [ ${#RETRIED[@]} -gt 0 ]; then
	echo "guests booted again after an emulator fault:"
	printf '  %s\n' "${RETRIED[@]}"
fi
if [ ${#FAILS[@]} -gt 0 ]; then
	echo "failures (console logs in $LOGS):"
	printf '  %s\n' "${FAILS[@]}"
fi
echo "$TOT_P passed, $TOT_F failed, $TOT_S skipped"
exit $any_fail
