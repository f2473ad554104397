#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The host half of the differential suite: builds tools/diff/scenario.c with
# MinGW-w64, runs it under Wine (a throw-away WINEPREFIX in build/diff/, no
# display), and compares its output with the guest's (the diff_scenarios
# test's lines in a console log) with tools/diff/compare.py, which applies
# the reviewed list of Wine's deviations (tools/diff/wine-deviations.py).
#
# usage: tools/diff/run.sh LOG          e.g. build/logs/6.12.log
#        tools/diff/run.sh --wine-only  only build and run the Wine side
# prints the comparison's summary; exits 0 when nothing is left unexplained.
# DIFF_SEEDS=N builds the Wine side with N seeded scenarios, to match a
# guest binary built so ("make stress": tools/fuzz/stress.sh, 3000).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build/diff
MINGW_CC=${MINGW_CC:-x86_64-w64-mingw32-gcc}
mkdir -p "$OUT"

[ $# = 1 ] || { sed -n '10,12s/^# \{0,1\}//p' "$0" >&2; exit 2; }

WINE=$(command -v wine64 || true)
[ -n "$WINE" ] || [ ! -x /usr/lib/wine/wine64 ] || WINE=/usr/lib/wine/wine64
[ -n "$WINE" ] || { echo "diff: no wine64 (apt-get install wine64)" >&2; exit 1; }
command -v "$MINGW_CC" >/dev/null ||
	{ echo "diff: no $MINGW_CC (apt-get install gcc-mingw-w64-x86-64)" >&2; exit 1; }

seeds=${DIFF_SEEDS:-}
exe=$OUT/scenario${seeds:+-$seeds}.exe
wout=$OUT/wine${seeds:+-$seeds}.out
if [ ! -f "$exe" ] || [ "$ROOT/tools/diff/scenario.c" -nt "$exe" ]; then
	"$MINGW_CC" -O2 -Wall -Wextra -Werror ${seeds:+-DDIFF_SEEDS=$seeds} -o "$exe.tmp" \
		"$ROOT/tools/diff/scenario.c"
	mv -f "$exe.tmp" "$exe"
fi

# A fresh prefix each time: nothing of an earlier run can leak in.
export WINEPREFIX=$OUT/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='
unset DISPLAY WAYLAND_DISPLAY
rm -rf "$WINEPREFIX"
t0=$(date +%s)
rc=0
timeout -k 10 900 "$WINE" "$exe" >"$wout" 2>"$OUT/wine.err" || rc=$?
# The wineserver outlives the program for a few seconds; end it now.
WINESERVER=$(command -v wineserver || echo /usr/lib/wine/wineserver64)
"$WINESERVER" -k >/dev/null 2>&1 || true
if [ $rc != 0 ]; then
	tail -20 "$OUT/wine.err" >&2
	echo "diff: the scenarios failed under Wine (exit $rc, see $OUT/wine.err)"
	exit 1
fi
echo "diff: Wine side: $(($(date +%s) - t0))s"
[ "$1" = --wine-only ] && exit 0
exec python3 "$ROOT/tools/diff/compare.py" "$wout" "$1"
