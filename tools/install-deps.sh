#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install everything winvm's build, lint and guest tests need, from Debian
# packages only.  Idempotent: a second run installs nothing and exits quickly.
# Kernel images are unpacked into build/kernels/<version>/ instead of being
# installed, so this machine's own boot setup is never touched.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STAMP=$ROOT/build/.deps-ok
KDIR=$ROOT/build/kernels

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: run as root (apt-get is needed)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive

pkgs_host="build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils
	kmod rsync qemu-system-x86 busybox-static dkms sparse linux-source-6.12
	python3 pkg-config file zstd e2fsprogs wine64 gcc-mingw-w64-x86-64"

# Kernel modules the guest loads (Debian builds them as modules), in load
# order: brd for RAM disks; crc16, mbcache, jbd2 and crc32c_generic are what
# ext4 needs (the guest has no modprobe to find them); overlay for overlayfs.
GUEST_MODS="brd crc16 mbcache jbd2 crc32c_generic ext4 overlay"

have_all() {
	for p in $pkgs_host "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || return 1
	done
}

mkdir -p "$ROOT/build" "$KDIR"
updated=0
apt_update_once() {
	if [ $updated = 0 ]; then
		apt-get update -qq
		updated=1
	fi
}

# The newest Debian 6.12 kernel build with an unsigned amd64 image.
newest_612() {
	apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64-unsigned$' |
		awk '{print $1}' | sed -E 's/^linux-image-(.*)-unsigned$/\1/' |
		sort -V | tail -1
}

# Every guest module of both kernels is unpacked.
have_mods() {	# <kernel version>
	local m
	[ -f "$KDIR/$1/vmlinuz" ] || return 1
	for m in $GUEST_MODS; do
		[ -f "$KDIR/$1/$m.ko" ] || return 1
	done
}

if [ -f "$STAMP" ] && have_all $(cat "$STAMP") &&
   have_mods "$(cat "$KDIR/v61")" && have_mods "$(cat "$KDIR/v612")"; then
	exit 0
fi

apt_update_once
v612=$(newest_612)
if [ -z "$v612" ]; then
	apt-get update -qq
	v612=$(newest_612)
fi
[ -n "$v612" ] || { echo "install-deps: no Debian 6.12 kernel found" >&2; exit 1; }
# linux-headers-amd64 is the 6.1 LTS metapackage on bookworm.
v61=$(apt-cache depends linux-headers-amd64 | awk '/Depends: linux-headers-6/{print $2}' |
	sed 's/^linux-headers-//' | head -1)
[ -n "$v61" ] || { echo "install-deps: no Debian 6.1 kernel found" >&2; exit 1; }

apt-get install -y -qq --no-install-recommends $pkgs_host \
	linux-headers-amd64 "linux-headers-$v612" >/dev/null

unpack_image() {	# <debian package> <kernel version>
	local pkg=$1 ver=$2 tmp m ko
	have_mods "$ver" && return 0
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq "$pkg")
	dpkg-deb -x "$tmp"/*.deb "$tmp/x"
	mkdir -p "$KDIR/$ver"
	cp "$tmp/x/boot/vmlinuz-$ver" "$KDIR/$ver/vmlinuz"
	cp "$tmp/x/boot/config-$ver" "$KDIR/$ver/config"
	# The guest's insmod cannot decompress: unpack each module plain.
	for m in $GUEST_MODS; do
		ko=$(find "$tmp/x/lib/modules/$ver" -name "$m.ko*" | head -1)
		[ -n "$ko" ] || { echo "install-deps: no $m.ko in $pkg" >&2; rm -rf "$tmp"; return 1; }
		case $ko in
		*.xz) xz -dc "$ko" >"$KDIR/$ver/$m.ko" ;;
		*.zst) zstd -dqc "$ko" >"$KDIR/$ver/$m.ko" ;;
		*) cp "$ko" "$KDIR/$ver/$m.ko" ;;
		esac
	done
	rm -rf "$tmp"
}
unpack_image "linux-image-$v61-unsigned" "$v61" 2>/dev/null ||
	unpack_image "linux-image-$v61" "$v61"
unpack_image "linux-image-$v612-unsigned" "$v612"

printf '%s\n' "$v61" > "$KDIR/v61"
printf '%s\n' "$v612" > "$KDIR/v612"
echo "linux-headers-amd64 linux-headers-$v612" > "$STAMP"
echo "install-deps: ok (6.1: $v61, 6.12: $v612)"
