# flushtm: kernel module, library, CLI, daemon.
#   make            build everything
#   make deps       install build and test dependencies (Debian 12, apt-get)
#   make check      unit tests, the VM suites on 6.1 and 6.12 (QEMU), the debug kernel's
#   make check-debug the module's suites on a debug kernel (lockdep, KASAN, ...)
#   make check-arm64 the arm64 suites, in arm64 guests (also part of make check)
#   make bench      flush-engine benchmark
#   make install    install (DESTDIR, PREFIX honoured)
#   make deb        the Debian packages flushtm-dkms and flushtm (in build/deb/)
#   make demo       boot a guest with emulated pmem, show flushtm catching a panic

TOP := $(CURDIR)
include mk/kernel.mk
include mk/version.mk

SUBDIRS_USER := lib flushtmctl flushtmd

.PHONY: all kmod user $(SUBDIRS_USER) deps check unit-check vm-check boot-check \
	test-progs bench sparse clean install uninstall demo check-debug check-arm64 \
	deb version

all: kmod user dkms.conf

# dkms.conf for `dkms add .` from this tree: dkms.conf.in with the version in
# place (the flushtm-dkms package's is dh_dkms's doing, from the same file).
dkms.conf: dkms.conf.in debian/changelog
	sed 's/#MODULE_VERSION#/$(FTM_VERSION)/g' $< > $@.tmp && mv $@.tmp $@

version:
	@echo $(FTM_VERSION)

kmod:
	$(MAKE) -C kmod

user: $(SUBDIRS_USER)
flushtmctl flushtmd: lib
$(SUBDIRS_USER):
	$(MAKE) -C $@

sparse:
	$(MAKE) -C kmod C=1

# Debian 12 packages needed to build and to run every test.
# Beyond the build and the 6.1 guests: debhelper, dh-dkms and lintian (make
# deb), prometheus-node-exporter and prometheus's promtool (the metrics of
# tests/guest/pkg-deb.bats); dwarves (BTF of the module built for 6.12,
# whose kernel is fetched into a cache by scripts/fetch-kernel.sh, not
# installed), linux-source-6.1 and its build tools (the debug kernel of
# tests/debug), LTTng and babeltrace2 (tests/host/after-crash.bats); the arm64
# cross compiler, QEMU for arm64 with its UEFI firmware, dtc (the device-tree
# pmem case) and mmdebstrap (the arm64 guest's root, scripts/mkroot-arm64.sh).
DEPS := build-essential pkg-config linux-headers-amd64 linux-image-amd64 \
	libkmod-dev libinih-dev libsystemd-dev libjson-c-dev libpmem-dev \
	qemu-system-x86 busybox-static kmod cpio socat kexec-tools ndctl daxctl \
	bats jq sparse man-db groff-base bash-completion systemd dkms dwarves \
	linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils \
	lttng-tools liblttng-ust-dev babeltrace2 \
	gcc-aarch64-linux-gnu qemu-system-arm qemu-efi-aarch64 device-tree-compiler mmdebstrap \
	debhelper dh-dkms lintian prometheus-node-exporter prometheus

deps:
	@if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root (apt-get)" >&2; exit 1; fi
	DEBIAN_FRONTEND=noninteractive apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(DEPS)

# Installs what the tests need first (quiet when all is there), then builds
# everything the suites use, so that suites running side by side find it built
# (the .debs of tests/guest/pkg-deb.bats included: make deb, lintian's errors
# and warnings failing it);
# then every kind of suite: unit, the VM and boot suites on each kernel of
# KERNELS (default "6.1 6.12"; make check KERNELS=6.1 for one), and the debug
# kernel's (check-debug); and the arm64 suites (tests/arm64) in arm64 guests.
#
# Of the debug kernel's suites, make check runs those that fit its time (75
# minutes in all on two CPUs under TCG) and have run clean there: the harden
# cycles (load/unload with every hook armed and processes enrolled), kmod-events'
# NMI, memory-offline and exec tests (# debug-filter), kmod-ranges (the set's
# building, merging and ordering, the manual and aperture flushes, the
# exported API: 19 tests, ~330 s there), the checkers' own proof and the
# report scan.  make check-debug runs
# them all (host/events, every kmod suite, the fuzzer, failslab): the fuzzer
# alone takes 10-20 minutes there, and runs on both kernels in make check.
CHECK_DEBUG_SUITES := guest/kmod-events guest/harden-cycles guest/kmod-ranges
CHECK_DEBUG_BATS := checkers reports
check:
	@scripts/ensure-deps.sh $(DEPS)
	$(MAKE) all test-progs deb
	FTM_DEBUG_SUITES="$(CHECK_DEBUG_SUITES)" FTM_DEBUG_BATS="$(CHECK_DEBUG_BATS)" FTM_DEBUG_FILTER=1 \
		tests/run-checks --unit --vm --boot --arm64 --debug

# The kmod, harden and events suites on a debug kernel (lockdep, KASAN, kmemleak,
# UBSAN, ...) built once from linux-source-6.1 and cached (tests/debug/), in a copy
# of the tree built against it: the main tree's build is left as it is.
check-debug:
	@scripts/ensure-deps.sh $(DEPS)
	tests/run-checks --debug

# The arm64 suites alone (tests/arm64): an arm64 copy of the tree, arm64 guests.
check-arm64:
	@scripts/ensure-deps.sh $(DEPS)
	tests/run-checks --arm64

# Test-only programs: a module that oopses on demand, the configfs fuzzer, the
# traced program and the record writer of tests/host/after-crash.bats.
test-progs:
	$(MAKE) -C tests/modules
	$(MAKE) -C tests/fuzz
	$(MAKE) -C tests/progs

unit-check: user
	tests/run-checks --unit

vm-check: all test-progs
	tests/run-checks --vm

boot-check: all
	tests/run-checks --boot

bench: user
	$(MAKE) -C bench run

clean:
	$(MAKE) -C kmod clean
	for d in $(SUBDIRS_USER) bench tests/modules tests/fuzz tests/progs; do $(MAKE) -C $$d clean || exit 1; done
	rm -rf build
	rm -f dkms.conf

-include mk/install.mk
-include mk/deb.mk
-include mk/demo.mk
-include mk/compat.mk
