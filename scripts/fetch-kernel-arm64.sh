#!/bin/bash
# Fetch Debian's arm64 build of the installed 6.1 kernel into a cache, without
# installing anything: image, headers (arm64 and common) and busybox-static
# for the guest's initramfs, from bookworm (and its updates and security
# suites), unpacked with dpkg-deb under one directory.  The system's apt
# sources, dpkg architectures and /lib/modules stay as they were (installing
# the arm64 headers would pull gcc-12:arm64 and remove gcc).
#
#   scripts/fetch-kernel-arm64.sh [ABI]
#     ABI        default: the installed amd64 kernel's, e.g. 6.1.0-57 (the
#                arm64 headers then use the installed linux-kbuild of the same
#                version, whose fixdep and modpost run here; the arm64 kbuild
#                package's are aarch64 binaries)
#   FTM_CACHE    default /var/cache/flushtm
#
# Prints the kernel's directory, $FTM_CACHE/kernels-arm64/KVER (KVER = ABI-arm64):
#   boot/vmlinuz-KVER, boot/config-KVER, boot/System.map-KVER
#   lib/modules/KVER/               the kernel's modules, depmod'ed
#   usr/src/linux-headers-KVER/     a build tree (KDIR=, ARCH=arm64)
#   usr/lib/linux-kbuild-X.Y        -> the installed amd64 kbuild
#   busybox                         busybox-static for arm64
# A kernel already fetched is reused (the directory's .complete marker).
set -euo pipefail

cache=${FTM_CACHE:-/var/cache/flushtm}
apt_dir=$cache/apt-bookworm-arm64

die() { echo "fetch-kernel-arm64: $*" >&2; exit 1; }

abi=${1:-}
if [ -z "$abi" ]; then
	abi=$(dpkg-query -W -f '${Package}\n' 'linux-image-[0-9]*-amd64' 2>/dev/null |
		sed -n 's/^linux-image-\([0-9][^ ]*\)-amd64$/\1/p' | sort -V | tail -n1)
	[ -n "$abi" ] || die "no installed linux-image-*-amd64 to take the ABI from (give one)"
fi
kver=$abi-arm64
kbuild_ver=${abi%%.0-*}			# 6.1.0-57 -> 6.1
[ -d "/usr/lib/linux-kbuild-$kbuild_ver" ] ||
	die "/usr/lib/linux-kbuild-$kbuild_ver: missing (apt-get install linux-kbuild-$kbuild_ver)"
dir=$cache/kernels-arm64/$kver
if [ -e "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$apt_dir"/{lists/partial,cache/archives/partial,debs} ||
	die "cannot make $apt_dir (run as root, or set FTM_CACHE)"
cat > "$apt_dir/sources.list" <<SOURCES
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
	-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
	-o APT::Architecture=arm64 -o APT::Architectures=arm64
	-o Dir::State::status=/dev/null
	-o Debug::NoLocking=1 -o APT::Sandbox::User=root -q)

if [ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null)" ]; then
	apt-get "${apt_opts[@]}" update > "$apt_dir/update.log" 2>&1 ||
		{ cat "$apt_dir/update.log" >&2; die "apt-get update failed"; }
fi

image=linux-image-$kver
apt-cache "${apt_opts[@]}" show "$image-unsigned" > /dev/null 2>&1 && image=$image-unsigned
headers=linux-headers-$kver
common=linux-headers-$abi-common
# the kbuild version the installed one must match
want=$(apt-cache "${apt_opts[@]}" show "$headers" 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n1)
have=$(dpkg-query -W -f '${Version}' "linux-kbuild-$kbuild_ver" 2>/dev/null || true)
[ -n "$want" ] || die "$headers: not in bookworm for arm64"
[ "$want" = "$have" ] ||
	die "$headers is $want but linux-kbuild-$kbuild_ver is $have: the kbuild tools would not match"

(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download "$image" "$headers" "$common" busybox-static) \
	> "$apt_dir/download.log" 2>&1 ||
	{ cat "$apt_dir/download.log" >&2; die "downloading $kver failed"; }

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/bb"
for p in "$image" "$headers" "$common"; do
	deb=$(ls -1 "$apt_dir/debs/${p}_"*.deb | sort -V | tail -n1)
	dpkg-deb -x "$deb" "$dir.tmp"
done
dpkg-deb -x "$(ls -1 "$apt_dir/debs/busybox-static_"*.deb | sort -V | tail -n1)" "$dir.tmp/bb"
mv "$dir.tmp/bb/bin/busybox" "$dir.tmp/busybox"
rm -rf "$dir.tmp/bb"
# The headers' Makefile includes the common tree by its installed path.
mk=$dir.tmp/usr/src/$headers/Makefile
sed -i "s|^include /usr/src/|include $dir/usr/src/|" "$mk"
grep -q "^include $dir/usr/src/$common/Makefile\$" "$mk" || die "unexpected $mk"
# fixdep, modpost and friends: the host's (same version, checked above).
rm -rf "$dir.tmp/usr/lib/linux-kbuild-$kbuild_ver"
mkdir -p "$dir.tmp/usr/lib"
ln -s "/usr/lib/linux-kbuild-$kbuild_ver" "$dir.tmp/usr/lib/linux-kbuild-$kbuild_ver"
depmod -b "$dir.tmp" "$kver" || die "depmod for $kver failed"
mv "$dir.tmp" "$dir"
touch "$dir/.complete"
echo "$dir"
