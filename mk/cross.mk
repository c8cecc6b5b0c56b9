# Cross builds: `make ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-` on a host
# that is not arm64 (CROSS_COMPILE defaults to that there).  Included by
# mk/common.mk (userspace) and mk/kernel.mk (the module).
#
# The module builds against Debian's arm64 headers unpacked into a cache by
# scripts/fetch-kernel-arm64.sh (KDIR: the newest there, unless given).  The
# CLI and the daemon build against the -dev packages of the arm64 root that
# scripts/mkroot-arm64.sh unpacks (FTM_SYSROOT, default $FTM_CACHE/arm64-root),
# the root the arm64 test guest runs: no dpkg multiarch set-up on this host.
FTM_CACHE ?= /var/cache/flushtm
FTM_HOST_ARCH := $(shell uname -m)

ifeq ($(ARCH),arm64)
ifneq ($(FTM_HOST_ARCH),aarch64)
FTM_CROSS := arm64
CROSS_COMPILE ?= aarch64-linux-gnu-
FTM_SYSROOT ?= $(FTM_CACHE)/arm64-root
FTM_MULTIARCH := aarch64-linux-gnu
endif
endif
