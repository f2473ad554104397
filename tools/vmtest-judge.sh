#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Judge one test guest's serial console log (written by tools/vmtest.sh,
# markers by tools/guest-init.sh): per-test TAP counts, KUnit suites,
# kernel splats, insmod/rmmod, kmemleak, the DONE marker.  The log is guest
# output and so untrusted: it is only ever matched against patterns, never
# executed, and control characters are dropped before anything is printed.
#
# usage: tools/vmtest-judge.sh [--kernel K] [--expect "T..."] [--result F] LOG
#   LOG         a console log, e.g. build/logs/6.12.log
#   --kernel K  6.1, 6.12 or debug (default: LOG's name without .log); the
#               debug kernel must have run at least one winvm KUnit suite
#   --expect T  the test binaries that must have run, space separated
#               (default: the guest's WINVM-PLAN line, if any)
#   --result F  also write the verdict as key=value lines to F and leave
#               out the summary lines (tools/vmtest.sh prints its own)
# prints one line per test binary and KUnit suite (kunit:<suite>), splats
# and failed cases, then "[K] verdict: ok" or "[K] verdict: FAIL: why" and
# "N passed, N failed, N skipped".  Exits 0 for ok, 1 for FAIL, 2 on usage.
set -euo pipefail
shopt -s inherit_errexit

# A kernel line matching SPLAT but not BENIGN is a splat.
SPLAT='BUG:|WARNING:|KASAN|UBSAN|possible circular|possible recursive|lockdep|Oops|Call Trace|unreferenced object|general protection|Kernel panic|kernel BUG at|INFO: |DEBUG_LOCKS_WARN_ON|blocked for more than'
# Boot banners of the debug kernel that match the above but are no splat.
BENIGN='RCU lockdep checking is enabled'

usage() {
	sed -n '10,20s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# Keeps tab and newline; everything else below 0x20 (escape sequences,
# carriage returns) and DEL goes, so guest text cannot drive the terminal.
printable() {	# <file>
	LC_ALL=C tr -d '\000-\010\013-\037\177' <"$1"
}

# Reads the log on stdin.  Only kernel lines (printk timestamp, forced by
# printk.time=1) and the kmemleak report are scanned for splats, so test
# output may say anything.  Splats are counted per region: boot (before
# /init), run (console while testing) and the dmesg dump; run and dmesg
# see the same messages, so the larger of the two counts.
# shellcheck disable=SC2016 # awk program, not shell
JUDGE_AWK='
function tally(name, rc, p, f, s) {
	P += p; F += f; S += s
	printf "  %-32s rc=%-3s pass %d, fail %d, skip %d%s\n", name, rc, p, f, s, \
		(f ? "   <-- FAIL" : "")
}
function fin(name, rc,   p, f, s) {
	if (tot) { p = tp; f = tf; s = ts }
	else { p = ok - okskip; f = nok; s = okskip }
	if (rc == 4 && p + f + s == 0) s = 1
	# A harness filter (VMTEST_ONLY=name:case) that matches nothing
	# leaves a plan of 1..0 and exit 0: a typo must not pass.
	if (rc == 0 && p + f + s == 0 && plan0) {
		print "  " name ": no test case ran (does the VMTEST_ONLY case exist?)"
		f = 1
	}
	if (rc == 0 && p + f + s == 0) p = 1
	if (rc != 0 && rc != 4 && f == 0) f = 1
	tally(name, rc, p, f, s)
	ended[name] = 1
}
# KUnit counts test cases, not the parameters of a parameterized case: its
# case-level line already sums them up.  A suite with no case line at all
# counts once, by its own result line.
function kfin(cut,   p, f, s) {
	p = kp; f = kf; s = ks
	if (cut) { print "  kunit:" ksuite ": no END marker"; f++ }
	if (p + f + s == 0) {
		if (kst == "skip") s = 1
		else if (kst == "ok") p = 1
		else f = 1
	}
	tally("kunit:" ksuite, "-", p, f, s)
	kended[ksuite] = 1
	ksuite = ""
}
function indent() { match($0, /^ */); return RLENGTH }
function rcof(   v) { v = substr($0, RSTART, RLENGTH); sub(/.*rc=/, "", v); return v }
BEGIN { region = "boot" }
/WINVM-INIT-START/ { region = "run" }
/WINVM-DMESG-BEGIN/ { region = "dmesg" }
/WINVM-DMESG-END/ { region = "run" }
/WINVM-KMEMLEAK-BEGIN/ { inleak = 1 }
/WINVM-KMEMLEAK-END/ { inleak = 0 }
(inleak || /\[ *[0-9]+\.[0-9]+\]/) && $0 ~ splat && $0 !~ benign {
	n[region]++
	if (!($0 in seen) && shown++ < 40) print "  splat(" region "): " $0
	seen[$0] = 1
}
# Any other marker means the results of an open suite were cut short.
ksuite != "" && /WINVM-/ && !/WINVM-KUNIT-/ { kfin(1) }
match($0, /WINVM-PLAN( [A-Za-z0-9_.+-]+)*/) && !planned {
	planned = 1; plan = substr($0, RSTART + 11, RLENGTH - 11)
}
match($0, /WINVM-INSMOD rc=[0-9]+/) { insmod = rcof() }
/WINVM-DEV ok/ { dev = "ok" }
/WINVM-DEV missing/ { dev = "missing" }
match($0, /WINVM-RMMOD rc=[0-9]+/) { rmmod = rcof() }
/WINVM-DONE/ { done = 1 }

match($0, /WINVM-KUNIT-BEGIN [A-Za-z0-9_]+/) {
	if (ksuite != "") kfin(1)
	ksuite = substr($0, RSTART + 18, RLENGTH - 18); kbegan[ksuite] = 1
	kp = kf = ks = 0; kst = ""; kind = -1
	next
}
match($0, /WINVM-KUNIT-END [A-Za-z0-9_]+/) { if (ksuite != "") kfin(0); next }
# Kernel lines can land between the results lines on the shared console.
ksuite != "" && /\[ *[0-9]+\.[0-9]+\]/ { next }
# The suite header "# Subtest: <suite>" sits at the indent of its cases.
ksuite != "" && kind < 0 && /^ *# Subtest: / { kind = indent(); next }
ksuite != "" && /^ *(not )?ok [0-9]+/ {
	i = indent()
	if (kind < 0 || i < kind) {	# the suite result line
		kst = /# *SKIP/ ? "skip" : (/^ *not ok/ ? "fail" : "ok")
		if (kst == "fail" && kp + kf + ks == 0) print "  kunit:" ksuite ": " substr($0, i + 1)
	} else if (i == kind) {	# a test case
		if (/# *SKIP/) ks++
		else if (/^ *not ok/) { kf++; print "  kunit:" ksuite ": " substr($0, i + 1) }
		else kp++
	} else if (/^ *not ok/ && !/# *SKIP/) {	# one parameter of a case
		print "  kunit:" ksuite ":   (parameter) " substr($0, i + 1)
	}
	next
}

match($0, /WINVM-TEST-BEGIN [A-Za-z0-9_.+-]+/) {
	cur = substr($0, RSTART + 17, RLENGTH - 17); began[cur] = 1
	tot = tp = tf = ts = ok = okskip = nok = plan0 = 0
	next
}
match($0, /WINVM-TEST-TIMEOUT [A-Za-z0-9_.+-]+/) { print "  " substr($0, RSTART + 19, RLENGTH - 19) ": killed by the guest watchdog" }
match($0, /WINVM-TEST-END [A-Za-z0-9_.+-]+ rc=[0-9]+/) {
	split(substr($0, RSTART + 15, RLENGTH - 15), a, " rc=")
	fin(a[1], a[2]); cur = ""
	next
}
cur != "" && /^# Totals: / {
	tot = 1
	for (i = 3; i <= NF; i++) {
		split($i, kv, ":")
		if (kv[1] == "pass" || kv[1] == "xfail") tp += kv[2]
		else if (kv[1] == "skip") ts += kv[2]
		else tf += kv[2]
	}
}
cur != "" && /^1\.\.0$/ { plan0 = 1 }
cur != "" && /^ok [0-9]/ { ok++; if (/# *SKIP/) okskip++ }
cur != "" && /^not ok [0-9]/ {
	if (/# *SKIP/) okskip++
	else { nok++; print "  " cur ": " $0 }
}

END {
	if (ksuite != "") kfin(1)
	if (!expect_set) expected = plan
	ne = split(expected, ex, " ")
	for (i = 1; i <= ne; i++) if (!(ex[i] in ended)) {
		printf "  %-32s %s   <-- FAIL\n", ex[i], \
			(ex[i] in began ? "no END marker" : "never ran")
		F++
	}
	nk = 0
	for (s in kbegan) nk++
	run = n["run"] > n["dmesg"] ? n["run"] : n["dmesg"]
	splats = run + n["boot"]
	if (insmod == "") insmod = "none"
	if (dev == "") dev = "none"
	if (rmmod == "") rmmod = "none"
	why = ""
	if (insmod != "0") why = why " insmod=" insmod
	if (dev != "ok") why = why " /dev/winvm=" dev
	if (rmmod != "0") why = why " rmmod=" rmmod
	if (!done) why = why " no-DONE-marker"
	if (splats) why = why " splats=" splats
	if (n["boot"]) why = why " (boot:" n["boot"] ")"
	if (F) why = why " tests-failed=" F
	# The debug kernel is built with KUnit and the module carries suites.
	if (kernel == "debug" && nk == 0) why = why " no-KUnit-suites"
	sub(/^ /, "", why)
	if (resfile != "") {
		printf "pass=%d\nfail=%d\nskip=%d\nsplats=%d\nbootsplats=%d\n", \
			P, F, S, splats, n["boot"] > resfile
		printf "insmod=%s\ndev=%s\nrmmod=%s\nfinished=%d\nkunit=%d\nwhy=%s\n", \
			insmod, dev, rmmod, done, nk, why > resfile
	} else {
		print "[" kernel "] verdict: " (why == "" ? "ok" : "FAIL: " why)
		# A kernel-level failure counts even when every test passed.
		printf "%d passed, %d failed, %d skipped\n", P, F + (why != "" && F == 0), S
	}
	exit (why != "")
}'

main() {
	local kernel='' expect='' expect_set=0 result='' log
	while [ $# -gt 0 ]; do
		case $1 in
		--kernel) [ $# -ge 2 ] || usage; kernel=$2; shift 2 ;;
		--expect) [ $# -ge 2 ] || usage; expect=$2; expect_set=1; shift 2 ;;
		--result) [ $# -ge 2 ] || usage; result=$2; shift 2 ;;
		-h|--help) usage ;;
		-*) usage ;;
		*) break ;;
		esac
	done
	[ $# = 1 ] || usage
	log=$1
	[ -r "$log" ] || { echo "vmtest-judge: cannot read $log" >&2; exit 2; }
	if [ -z "$kernel" ]; then
		kernel=$(basename "$log" .log)
	fi
	[ -z "$result" ] || : >"$result"
	printable "$log" | awk -v splat="$SPLAT" -v benign="$BENIGN" \
		-v kernel="$kernel" -v expected="$expect" -v expect_set="$expect_set" \
		-v resfile="$result" "$JUDGE_AWK"
}

main "$@"
