#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Host-only self-check of tools/vmtest-judge.sh: judge every fake console
# log tools/testdata/<case>/<kernel>.log and compare what it prints and its
# exit status with <kernel>.log.expect next to it.  No guest, no root.
#
# usage: tools/check-judge.sh [--update]   (--update rewrites the .expect files)
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JUDGE=$ROOT/tools/vmtest-judge.sh
DATA=$ROOT/tools/testdata
update=0
case ${1:-} in
--update) update=1 ;;
'') ;;
*) sed -n '8s/^# //p' "$0" >&2; exit 2 ;;
esac

# What the judge prints for one log, its exit status last.
judge() {	# <log>
	local rc=0
	# Relative to the repository, as a developer would type it.
	(cd "$ROOT" && bash "$JUDGE" "${1#"$ROOT"/}") || rc=$?
	echo "exit $rc"
}

# The --result file must hold exactly the keys tools/vmtest.sh reads.
check_result_file() {	# <log>
	local res keys
	res=$(mktemp)
	bash "$JUDGE" --result "$res" "$1" >/dev/null || true
	keys=$(cut -d= -f1 "$res" | tr '\n' ' ')
	rm -f "$res"
	[ "$keys" = "pass fail skip splats bootsplats insmod dev rmmod finished kunit why " ] || {
		echo "check-judge: $1: --result keys are: $keys" >&2
		return 1
	}
}

main() {
	local log n=0 bad=0 out
	local canary=/tmp/winvm-judge-pwned	# the hostile fixture's target
	rm -f "$canary"
	for log in "$DATA"/*/*.log; do
		n=$((n + 1))
		out=$(judge "$log")
		if [ $update = 1 ]; then
			printf '%s\n' "$out" >"$log.expect"
		elif ! diff -u "$log.expect" <(printf '%s\n' "$out"); then
			echo "check-judge: FAILED: ${log#"$ROOT"/}" >&2
			bad=1
		fi
		check_result_file "$log" || bad=1
	done
	if [ -e "$canary" ]; then
		echo "check-judge: FAILED: guest text was executed ($canary exists)" >&2
		bad=1
	fi
	[ $n -gt 0 ] || { echo "check-judge: no fixtures in $DATA" >&2; exit 1; }
	if [ $bad = 0 ]; then echo "check-judge: ok ($n logs)"; fi
	return $bad
}

main
