#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# "make stress": build the fuzz/stress tools (tools/fuzz) and run them in
# the test guest, by default on the debug kernel (KASAN, lockdep,
# kmemleak, DEBUG_VM, failslab, fail_page_alloc):
#   stress-model       model-mode fuzzing, checked against MEM_QUERY and maps
#   stress-chaos       4 threads x 3 processes, forks, execs, exits
#   stress-race        data-integrity races (decommit, guard, protect, release,
#                      sections across processes)
#   stress-failinject  fuzzing under failslab + fail_page_alloc at 1/5/10/25%
#   stress-limits      memcg charging of winvm memory, kernel-memory bounds
#   stress-diff        the differential scenarios (tools/diff) with
#                      STRESS_DIFF_SEEDS seeded ones, compared afterwards
#                      with the same program under Wine (tools/diff/run.sh)
# The runner fails the run on any kernel splat, a failed rmmod or a kmemleak
# report.  Afterwards the operation counts are summed from the console log.
#
# environment:
#   STRESS_SECONDS   budget per scenario (60; failinject gets twice that)
#   STRESS_KERNELS   kernels to boot (debug), e.g. "6.12 debug"
#   STRESS_DIFF_SEEDS  seeded differential scenarios (3000)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build/fuzz
secs=${STRESS_SECONDS:-60}
kernels=${STRESS_KERNELS:-debug}
diff_seeds=${STRESS_DIFF_SEEDS:-3000}

make -s -C "$ROOT/tools/fuzz" OUT="$OUT" STRESS_SECONDS="$secs" STRESS_DIFF_SEEDS="$diff_seeds"
# Boot, guest timeouts: 5 scenarios (failinject counts double) plus slack
# (stress-diff takes well under a minute per 1000 scenarios).
limit=$((secs * 6 * 3 + 600 + diff_seeds / 10))
rc=0
VMTEST_TESTS_DIR=$OUT VMTEST_TIMEOUT=$limit bash "$ROOT/tools/vmtest.sh" $kernels || rc=$?

for k in $kernels; do
	log=$ROOT/build/logs/$k.log
	[ -f "$log" ] || continue
	tr -d '\r' <"$log" | awk -v k="$k" '
		/^winvm-fuzz: .*result=/ {
			for (i = 1; i <= NF; i++) if ($i ~ /^ops=/) { split($i, a, "="); fuzz += a[2] }
			runs++
		}
		/^winvm-race: .*result=/ {
			for (i = 1; i <= NF; i++) if ($i ~ /^ops=/) { split($i, a, "="); race += a[2] }
		}
		END {
			printf "[%s] stress: %d fuzz runs, %d fuzz operations, %d race operations\n", \
				k, runs, fuzz, race
		}'
	# The guest's differential scenarios against Wine's.
	if grep -q WINVM-DIFF-END "$log"; then
		if out=$(DIFF_SEEDS=$diff_seeds bash "$ROOT/tools/diff/run.sh" "$log" 2>&1); then
			echo "$out" | sed "s/^/[$k] /"
		else
			echo "$out" | sed "s/^/[$k] /"
			echo "[$k] FAIL: differential scenarios (Wine vs winvm)"
			rc=1
		fi
	else
		echo "[$k] FAIL: no complete stress-diff output in $log"
		rc=1
	fi
done
exit $rc
