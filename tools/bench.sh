#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run the winvm benchmarks (bench/) in a QEMU guest and collect the results.
# Nothing is loaded into this machine's kernel: tools/vmtest.sh builds the
# module, boots the kernel under TCG and runs the benchmark programs as its
# "tests"; bench-summary, the last of them, prints every result as TSV
# between markers, which land in build/bench/results.tsv.
#
# usage: tools/bench.sh [KERNEL]      (6.12 by default; 6.1 works too)
# environment:
#   VMTEST_TIMEOUT   host-side limit for the whole guest run in s (900)
#   anything else tools/vmtest.sh reads (VMTEST_CPU, VMTEST_KVM, WINVM_SRC)
# output:
#   build/bench/results.tsv   case, param, unit, winvm, native, ratio, note
#   build/bench/console.log   the guest's serial console
#
# The guest is run from a private root (tools/guest-run.sh), so this can
# run beside make test.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/build/bench
KERNEL=${1:-6.12}
BEGIN='@@WINVM-BENCH-TSV-BEGIN@@'
END='@@WINVM-BENCH-TSV-END@@'

case $KERNEL in
6.1|6.12) ;;
*) echo "usage: $0 [6.1|6.12]" >&2; exit 2 ;;
esac

mkdir -p "$OUT"
if ! make -C "$ROOT/bench" OUT="$OUT/bin" >"$OUT/build.log" 2>&1; then
	tail -40 "$OUT/build.log" >&2
	echo "bench: build failed (see $OUT/build.log)" >&2
	exit 1
fi

. "$ROOT/tools/guest-run.sh"
guest_run "$ROOT" "$OUT" "$KERNEL" "$OUT/bin" || { echo "bench: no results" >&2; exit 1; }
rc=$GUEST_RC
guest_block "$OUT" "$BEGIN" "$END" >"$OUT/results.tsv"
if ! grep -q '^case	' "$OUT/results.tsv"; then
	echo "bench: no results in the console log (see $OUT/console.log)" >&2
	exit 1
fi

echo
echo "results ($KERNEL, $(grep '^# kernel' "$OUT/results.tsv" | cut -f2)): $OUT/results.tsv"
awk -F'\t' '
	function fmt(v, unit) {
		if (v !~ /^-?[0-9.e+-]+$/) return v
		if (unit ~ /^ns/) {
			if (v >= 1e6) return sprintf("%.2f ms", v / 1e6)
			if (v >= 1e3) return sprintf("%.2f us", v / 1e3)
			return sprintf("%.0f ns", v)
		}
		return v == int(v) || v >= 100 ? sprintf("%.0f", v) : sprintf("%.2f", v)
	}
	/^#/ || $1 == "case" { next }
	{
		r = $6 ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ ? \
			sprintf($6 > 0 && $6 < 0.01 ? "%.2g" : "%.2f", $6) : $6
		printf "%-22s %-28s %12s %12s %8s  %s\n", $1, $2, fmt($4, $3), fmt($5, $3), r, $3
	}' "$OUT/results.tsv"

errors=$(awk -F'\t' '$4 == "error" || $5 == "error"' "$OUT/results.tsv")
if [ -n "$errors" ]; then
	echo "bench: some measurements failed:" >&2
	echo "$errors" >&2
	rc=1
fi
[ $rc = 0 ] || echo "bench: FAILED (vmtest or measurement errors above)" >&2
exit $rc
