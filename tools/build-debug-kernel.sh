#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the debug 6.12 guest kernel from Debian's linux-source-6.12 with
# tools/kconfig/debug.config on top of tinyconfig.  The result is cached in
# build/debug-kernel/<key>/, keyed by the source package version and the
# fragment's hash, so later runs reuse it.  Prints the build directory.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FRAG=$ROOT/tools/kconfig/debug.config
TARBALL=$(ls /usr/src/linux-source-6.12.tar.xz)
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$(printf '%s\n' "$srcver" | cat - "$FRAG" | sha256sum | cut -c1-16)
OUT=$ROOT/build/debug-kernel/$key

if [ -f "$OUT/done" ]; then
	echo "$OUT"
	exit 0
fi
# Two runners (say make test and make stress) may ask at once: one builds,
# the other waits for it instead of wiping its tree.
mkdir -p "$ROOT/build/debug-kernel"
exec 9>"$ROOT/build/debug-kernel/.lock"
flock 9
if [ -f "$OUT/done" ]; then
	echo "$OUT"
	exit 0
fi

rm -rf "$OUT"
mkdir -p "$OUT"
log=$OUT/build.log
{
	echo "debug kernel: linux-source-6.12 $srcver, fragment key $key"
	tar -C "$OUT" -xf "$TARBALL"
	src=$OUT/linux-source-6.12
	mkdir -p "$OUT/obj"
	make -C "$src" O="$OUT/obj" ARCH=x86_64 tinyconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$OUT/obj" \
		"$OUT/obj/.config" "$FRAG"
	make -C "$src" O="$OUT/obj" ARCH=x86_64 olddefconfig
	# The fragment is only useful if the options survived olddefconfig.
	missing=0
	while IFS= read -r line; do
		case "$line" in CONFIG_*=y) ;; *) continue ;; esac
		grep -qx "$line" "$OUT/obj/.config" || { echo "missing: $line"; missing=1; }
	done < "$FRAG"
	[ $missing = 0 ]
	make -C "$src" O="$OUT/obj" ARCH=x86_64 -j"$(nproc)" bzImage modules
} >"$log" 2>&1 || { echo "debug kernel build failed, see $log" >&2; tail -30 "$log" >&2; exit 1; }
cp "$OUT/obj/arch/x86/boot/bzImage" "$OUT/vmlinuz"
touch "$OUT/done"
echo "$OUT"
