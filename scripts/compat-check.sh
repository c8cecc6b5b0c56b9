#!/bin/bash
# make compat-check: build flushtm.ko (no boot) against every kernel build tree
# this machine has, W=1, each in a copy of kmod/ under build/compat/KVER, and
# fail on an error or a warning.  The trees looked at:
#   /lib/modules/*/build                      installed kernels' headers
#   $FTM_CACHE/kernels/*/usr/src/linux-headers-*[!n]  kernels fetched by
#                                             scripts/fetch-kernel.sh
#   $FTM_CACHE/debug-kernel/*/build           the debug kernel (make check-debug)
#   FTM_COMPAT_KDIRS="DIR ..."                more trees (a newer kernel's
#                                             `make modules_prepare`d source)
# Prints one line per tree, `compat KVER ok|FAILED (N warnings)`, and the log of
# a failed one.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${FTM_CACHE:-/var/cache/flushtm}
out=$top/build/compat
make=${MAKE:-make}

trees=()
for d in /lib/modules/*/build "$cache"/kernels/*/usr/src/linux-headers-* \
	"$cache"/debug-kernel/*/build ${FTM_COMPAT_KDIRS:-}; do
	case $d in (*-common | *-common-*) continue ;; esac
	[ -e "$d/Makefile" ] && [ -e "$d/include/config/auto.conf" -o -e "$d/.config" ] || continue
	trees+=("$(cd "$d" && pwd -P)")
done
if [ ${#trees[@]} -eq 0 ]; then
	echo "compat-check: no kernel build tree found (make deps installs linux-headers-amd64)" >&2
	exit 1
fi

failed=0 seen=" "
for kdir in "${trees[@]}"; do
	case $seen in (*" $kdir "*) continue ;; esac
	seen+="$kdir "
	kver=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' "$kdir/include/generated/utsrelease.h" 2>/dev/null)
	[ -n "$kver" ] || kver=$(basename "$kdir")
	arch=$(sed -n 's/^CONFIG_\(X86_64\|ARM64\)=y$/\1/p' "$kdir/.config" 2>/dev/null | head -n1)
	case $arch in
	(ARM64) mk_arch=(ARCH=arm64 CROSS_COMPILE=${CROSS_COMPILE:-aarch64-linux-gnu-}) ;;
	(*) mk_arch=() ;;
	esac
	b=$out/$kver
	rm -rf "$b"
	mkdir -p "$b"
	# the sources as they are in the work tree, none of its build products
	(cd "$top/kmod" && find . -type f \( -name '*.[ch]' -o -name Kbuild -o -name Makefile \) \
		! -name '*.mod.c' -print0 | cpio -0 -pdm --quiet "$b")
	log=$b/build.log
	"$make" -C "$kdir" M="$b" W=1 "${mk_arch[@]}" modules > "$log" 2>&1
	rc=$?
	warnings=$(grep -c -E '(warning|error):' "$log")
	if [ "$rc" = 0 ] && [ "$warnings" = 0 ] && [ -e "$b/flushtm.ko" ]; then
		echo "compat $kver ok ($kdir)"
	else
		echo "compat $kver FAILED ($warnings warnings or errors, exit $rc; $kdir)"
		grep -E -B2 -A3 '(warning|error):' "$log" | head -n 60
		failed=$((failed + 1))
	fi
done
[ "$failed" = 0 ]
