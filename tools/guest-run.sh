# SPDX-License-Identifier: GPL-2.0-only
#
# Sourced by tools/bench.sh and tools/profile.sh: run prebuilt programs in
# a QEMU guest as tools/vmtest.sh's "tests", and pull a marked block out of
# the console.  Nothing is loaded into this machine's kernel.
#
# tools/vmtest.sh keeps its logs, module build and initramfs under its
# checkout's build/, shared with any "make test" running at the same time.
# To stay out of their way it is run from a private root, OUT/vm (links to
# the real script, guest init, dkms.conf and kernels), with WINVM_SRC
# pointing back at this checkout.  VMTEST_TIMEOUT (900 s here) bounds the
# guest run; anything else vmtest.sh reads passes through.

# guest_run ROOT OUT KERNEL TESTS_DIR: boot KERNEL and run the programs
# listed in TESTS_DIR/TESTS.  Sets GUEST_RC to vmtest's status and copies
# the console to OUT/console.log; returns 1 if there is no console at all.
guest_run() {
	local root=$1 out=$2 kernel=$3 tests=$4 vm=$2/vm log

	mkdir -p "$vm/tools" "$vm/build"
	ln -sfn "$root/tools/vmtest.sh" "$vm/tools/vmtest.sh"
	ln -sfn "$root/tools/guest-init.sh" "$vm/tools/guest-init.sh"
	ln -sfn "$root/dkms.conf" "$vm/dkms.conf"
	ln -sfn "$root/build/kernels" "$vm/build/kernels"
	GUEST_RC=0
	WINVM_SRC=${WINVM_SRC:-$root} VMTEST_TESTS_DIR=$tests \
		VMTEST_TIMEOUT=${VMTEST_TIMEOUT:-900} \
		bash "$vm/tools/vmtest.sh" "$kernel" || GUEST_RC=$?
	log=$vm/build/logs/$kernel.log
	if [ ! -f "$log" ]; then
		echo "no console log ($log)" >&2
		return 1
	fi
	tr -d '\r' <"$log" >"$out/console.log"
}

# guest_block OUT BEGIN END: the console lines between the marker lines,
# minus any kernel message the console interleaved with them.
guest_block() {
	sed -n "/^$2\$/,/^$3\$/p" "$1/console.log" |
		grep -v -e "^$2\$" -e "^$3\$" -e '^\[ *[0-9]*\.[0-9]*\]' || true
}
