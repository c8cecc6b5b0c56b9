#!/bin/bash
# Fetch a Debian kernel that is not the system's into a cache, without
# installing it: image, headers and kbuild .debs from a suite given here (not
# from apt's sources), unpacked with dpkg-deb under one directory per kernel.
# The system's apt sources, package database and /lib/modules stay as they were.
#
#   scripts/fetch-kernel.sh [SUITE [FLAVOUR-PACKAGE]]
#     SUITE            default bookworm-backports
#     FLAVOUR-PACKAGE  default linux-image-amd64 (its newest version in SUITE)
#   FTM_CACHE          default /var/cache/flushtm
#
# Prints the kernel's directory, $FTM_CACHE/kernels/KVER, holding:
#   boot/vmlinuz-KVER, boot/config-KVER, boot/System.map-KVER
#   lib/modules/KVER/            the kernel's modules (.ko.xz as Debian ships them), depmod'ed
#   usr/src/linux-headers-KVER/  a build tree for out-of-tree modules (KDIR=)
# A kernel already fetched is reused (the directory's .complete marker).
set -euo pipefail

suite=${1:-bookworm-backports}
meta=${2:-linux-image-amd64}
cache=${FTM_CACHE:-/var/cache/flushtm}
apt_dir=$cache/apt-$suite

die() { echo "fetch-kernel: $*" >&2; exit 1; }

mkdir -p "$apt_dir"/{lists/partial,cache/archives/partial,debs} ||
	die "cannot make $apt_dir (run as root, or set FTM_CACHE)"
echo "deb http://deb.debian.org/debian $suite main" > "$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
	-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
	-o Debug::NoLocking=1 -o APT::Sandbox::User=root -q)

# The lists are refreshed at most once a day: a kernel once fetched stays
# usable without the network.
if [ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null)" ]; then
	apt-get "${apt_opts[@]}" update > "$apt_dir/update.log" 2>&1 ||
		{ cat "$apt_dir/update.log" >&2; die "apt-get update of $suite failed"; }
fi

# The meta package names the image package: linux-image-KVER(-unsigned).
image=$(apt-cache "${apt_opts[@]}" depends "$meta" 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1)
[ -n "$image" ] || die "$meta in $suite names no linux-image package"
kver=${image#linux-image-}
kver=${kver%-unsigned}
dir=$cache/kernels/$kver
if [ -e "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi

headers=linux-headers-$kver
common=$(apt-cache "${apt_opts[@]}" depends "$headers" 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-headers-[^ ]*-common[^ ]*\)$/\1/p' | head -n1)
kbuild=$(apt-cache "${apt_opts[@]}" depends "$headers" 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-kbuild-[^ ]*\)$/\1/p' | head -n1)
[ -n "$common" ] && [ -n "$kbuild" ] || die "cannot tell what $headers depends on"
# The unsigned image holds the same kernel as the signed one and no shim glue.
apt-cache "${apt_opts[@]}" show "linux-image-$kver-unsigned" > /dev/null 2>&1 &&
	image=linux-image-$kver-unsigned

(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download "$image" "$headers" "$common" "$kbuild") \
	> "$apt_dir/download.log" 2>&1 ||
	{ cat "$apt_dir/download.log" >&2; die "downloading $kver failed"; }

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
for p in "$image" "$headers" "$common" "$kbuild"; do
	deb=$(ls -1 "$apt_dir/debs/${p}_"*.deb | sort -V | tail -n1)
	dpkg-deb -x "$deb" "$dir.tmp"
done
# The headers' Makefile includes the common tree by its installed path.
mk=$dir.tmp/usr/src/$headers/Makefile
sed -i "s|^include /usr/src/|include $dir/usr/src/|" "$mk"
grep -q "^include $dir/usr/src/$common/Makefile\$" "$mk" || die "unexpected $mk"
# The packages' postinst would run depmod; modprobe in a guest needs its maps.
depmod -b "$dir.tmp" "$kver" || die "depmod for $kver failed"
mv "$dir.tmp" "$dir"
touch "$dir/.complete"
echo "$dir"
