#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Style and static checks for the kernel-side code: checkpatch.pl --strict
# (from Debian's linux-source-6.12) and a sparse build (C=2) against both
# Debian header trees.  Any checkpatch message or sparse warning fails.
# Also the host-only self-check of the console-log judge (check-judge.sh).
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=${WINVM_SRC:-$ROOT}	# where Kbuild, module/ and uapi/ are
B=$ROOT/build
CP=$B/checkpatch
TARBALL=/usr/src/linux-source-6.12.tar.xz
mkdir -p "$B/logs"
rc=0

bash "$ROOT/tools/check-judge.sh" || rc=1

# checkpatch.pl looks for spelling.txt and const_structs.checkpatch next to
# itself, so the three files are kept together.  The tarball is read once;
# the stamp keys the copy to the installed source package.
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
if [ "$(cat "$CP/.version" 2>/dev/null)" != "$srcver" ]; then
	rm -rf "$CP" && mkdir -p "$CP"
	tar -xJf "$TARBALL" -C "$CP" --strip-components=2 \
		linux-source-6.12/scripts/checkpatch.pl \
		linux-source-6.12/scripts/spelling.txt \
		linux-source-6.12/scripts/const_structs.checkpatch
	echo "$srcver" >"$CP/.version"
fi

# checkpatch <log> <extra args> <files...>
checkpatch() {
	local log=$1 args=$2
	shift 2
	# shellcheck disable=SC2086 # $args is a word list on purpose
	if (cd "$SRC" && perl "$CP/checkpatch.pl" --strict --no-tree --terse \
			--show-types $args -f "$@") >"$log" 2>&1; then
		echo "checkpatch: ok ($# files)"
	else
		cat "$log"
		echo "checkpatch: FAILED"
		rc=1
	fi
}
files=()
for f in "$SRC"/module/*.c "$SRC"/module/*.h; do
	[ -f "$f" ] && files+=("${f#"$SRC"/}")
done
[ ${#files[@]} -gt 0 ] || { echo "lint: no sources in $SRC/module" >&2; exit 1; }
checkpatch "$B/logs/checkpatch.log" "" "${files[@]}"
# BIT()/BIT_ULL() do not exist for userspace, which the uapi header serves
# with nothing but <linux/types.h>.
checkpatch "$B/logs/checkpatch-uapi.log" "--ignore BIT_MACRO" uapi/linux/winvm.h

# sparse runs as part of a real module build; the copy keeps objects out of
# the source tree and apart from tools/vmtest.sh's builds.
for v in v61 v612; do
	kv=$(cat "$B/kernels/$v")
	dir=$B/lint/$kv log=$B/logs/sparse-$kv.log
	mkdir -p "$dir"
	# dkms.conf holds the version, which Kbuild may read.
	rsync -a --delete "$SRC/Kbuild" "$SRC/module" "$SRC/uapi" "$SRC/dkms.conf" "$dir/"
	if ! make -C "/usr/src/linux-headers-$kv" M="$dir" C=2 modules >"$log" 2>&1; then
		tail -40 "$log"
		echo "sparse ($kv): build FAILED"
		rc=1
	elif grep -E 'warning:|error:' "$log"; then
		echo "sparse ($kv): FAILED"
		rc=1
	else
		echo "sparse ($kv): ok"
	fi
done
exit $rc
