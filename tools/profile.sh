#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Where the time goes: run bench/profile.c (bench-profile) alone in a QEMU
# guest, under ftrace's function_graph tracer, and keep the call trees it
# prints: for each hot path, the winvm operation and its native
# counterpart, with the time per operation spent in each kernel function.
# Nothing is loaded into this machine's kernel.
#
# usage: [PROFILE_ONLY=text] tools/profile.sh [KERNEL]   (6.12 by default; 6.1 works too;
#        PROFILE_ONLY: only the cases whose name contains text)
# output:
#   build/profile/profile-KERNEL.txt   the call trees
#   build/profile/console.log          the guest's serial console
#
# Like tools/bench.sh it runs the guest from a private root
# (tools/guest-run.sh), so it can run beside make test.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/build/profile
KERNEL=${1:-6.12}
BEGIN='@@WINVM-PROFILE-BEGIN@@'
END='@@WINVM-PROFILE-END@@'

case $KERNEL in
6.1|6.12) ;;
*) echo "usage: $0 [6.1|6.12]" >&2; exit 2 ;;
esac

mkdir -p "$OUT/bin"
if ! make -C "$ROOT/bench" OUT="$OUT/build" >"$OUT/build.log" 2>&1; then
	tail -40 "$OUT/build.log" >&2
	echo "profile: build failed (see $OUT/build.log)" >&2
	exit 1
fi
cp "$OUT/build/bench-profile" "$OUT/bin/"
echo bench-profile >"$OUT/bin/TESTS"

. "$ROOT/tools/guest-run.sh"
guest_run "$ROOT" "$OUT" "$KERNEL" "$OUT/bin" || { echo "profile: no call trees" >&2; exit 1; }
rc=$GUEST_RC
guest_block "$OUT" "$BEGIN" "$END" >"$OUT/profile-$KERNEL.txt"
if ! grep -q '^## ' "$OUT/profile-$KERNEL.txt"; then
	echo "profile: no call trees in the console log (see $OUT/console.log)" >&2
	exit 1
fi
cat "$OUT/profile-$KERNEL.txt"
echo "profile ($KERNEL): $OUT/profile-$KERNEL.txt"
exit $rc
