#!/bin/bash
# An arm64 Debian 12 root for the arm64 test guest and the cross build of the
# CLI and the daemon, made once with mmdebstrap from Debian's packages and
# cached: the guest mounts it over 9p read-only (as the x86 guest mounts the
# host root), and its -dev packages are the sysroot of
# `make ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-` (mk/cross.mk).
#
#   scripts/mkroot-arm64.sh          prints the root's directory,
#                                    $FTM_CACHE/arm64-root-KEY (default /var/cache/flushtm),
#                                    and points $FTM_CACHE/arm64-root at it
#
# Variant extract: the packages are unpacked, no maintainer script runs (that
# would need qemu-user and binfmt_misc on this host); the few files a guest
# needs from them (passwd, group, ld.so.cache) are made here.  The package
# list is part of the cache key: a changed list makes a new root.
set -euo pipefail

cache=${FTM_CACHE:-/var/cache/flushtm}
# What the guest runs (the suites' tools) and what the CLI and daemon build against.
pkgs=(libc6 libc-bin bash dash coreutils util-linux mount procps kmod grep sed gawk findutils
	diffutils bats ndctl daxctl kexec-tools jq ncurses-base busybox-static
	libc6-dev libkmod-dev libinih-dev libsystemd-dev libjson-c-dev libpmem-dev)
key=$(printf '%s\n' "${pkgs[@]}" | sha256sum | cut -c1-8)
root=$cache/arm64-root-$key

die() { echo "mkroot-arm64: $*" >&2; exit 1; }
if [ -e "$root/.complete" ]; then
	[ "$(readlink "$cache/arm64-root" 2>/dev/null)" = "${root##*/}" ] ||
		ln -sfn "${root##*/}" "$cache/arm64-root"
	echo "$root"
	exit 0
fi
command -v mmdebstrap > /dev/null || die "mmdebstrap: missing (apt-get install mmdebstrap)"
rm -rf "$root.tmp"
mkdir -p "$root.tmp" || die "cannot make $root.tmp"
include=$(IFS=,; echo "${pkgs[*]}")
mmdebstrap --quiet --variant=extract --architectures=arm64 --include="$include" \
	--components=main bookworm "$root.tmp" \
	"deb http://deb.debian.org/debian bookworm main" \
	"deb http://deb.debian.org/debian bookworm-updates main" \
	"deb http://deb.debian.org/debian-security bookworm-security main" \
	> "$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; die "mmdebstrap failed"; }
# What the packages' maintainer scripts would have made.
cp "$root.tmp/usr/share/base-passwd/passwd.master" "$root.tmp/etc/passwd" 2>/dev/null ||
	printf 'root:x:0:0:root:/root:/bin/bash\n' > "$root.tmp/etc/passwd"
cp "$root.tmp/usr/share/base-passwd/group.master" "$root.tmp/etc/group" 2>/dev/null ||
	printf 'root:x:0:\n' > "$root.tmp/etc/group"
mkdir -p "$root.tmp/root" "$root.tmp/tmp" "$root.tmp/run" "$root.tmp/proc" "$root.tmp/sys" \
	"$root.tmp/dev" "$root.tmp/mnt"
chmod 1777 "$root.tmp/tmp"
# /bin/sh, which dash's postinst makes (modprobe's install commands run it)
[ -e "$root.tmp/bin/sh" ] || ln -s dash "$root.tmp/bin/sh"
# Symlinks of merged /usr that usrmerge's scripts would make, when the packages did not.
for d in bin sbin lib; do
	[ -e "$root.tmp/$d" ] || ln -s "usr/$d" "$root.tmp/$d"
done
# No ld.so.cache: the loader finds the multiarch directories by itself.
rm -rf "$root.tmp/var/cache/apt/archives"/*.deb
mv "$root.tmp" "$root"
touch "$root/.complete"
ln -sfn "${root##*/}" "$cache/arm64-root"
echo "$root"
