# flushtm: kernel module, library, CLI, daemon.
#   make            build everything
#   make deps       install build and test dependencies (Debian 12, apt-get)
#   make check      unit tests, the VM suites on 6.1 and 6.12 (QEMU), the debug kernel's
#   make check-debug the module's suites on a debug kernel (lockdep, KASAN, ...)
#   make bench      flush-engine benchmark
#   make install    install (DESTDIR, PREFIX honoured)
#   make demo       boot a guest with emulated pmem, show flushtm catching a panic

TOP := $(CURDIR)
include mk/kernel.mk

SUBDIRS_USER := lib flushtmctl flushtmd

.PHONY: all kmod user $(SUBDIRS_USER) deps check unit-check vm-check boot-check \
	test-progs bench sparse clean install uninstall demo check-debug

all: kmod user

kmod:
	$(MAKE) -C kmod

user: $(SUBDIRS_USER)
flushtmctl flushtmd: lib
$(SUBDIRS_USER):
	$(MAKE) -C $@

sparse:
	$(MAKE) -C kmod C=1

# Debian 12 packages needed to build and to run every test.
# Beyond the build and the 6.1 guests: dwarves (BTF of the module built for 6.12,
# whose kernel is fetched into a cache by scripts/fetch-kernel.sh, not
# installed), linux-source-6.1 and its build tools (the debug kernel of
# tests/debug), LTTng and babeltrace2 (tests/host/after-crash.bats).
DEPS := build-essential pkg-config linux-headers-amd64 linux-image-amd64 \
	libkmod-dev libinih-dev libsystemd-dev libjson-c-dev libpmem-dev \
	qemu-system-x86 busybox-static kmod cpio socat kexec-tools ndctl daxctl \
	bats jq sparse man-db groff-base bash-completion systemd dkms dwarves \
	linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils \
	lttng-tools liblttng-ust-dev babeltrace2

deps:
	@if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root (apt-get)" >&2; exit 1; fi
	DEBIAN_FRONTEND=noninteractive apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(DEPS)

# Installs what the tests need first (quiet when all is there), then builds
# everything the suites use, so that suites running side by side find it built;
# then every kind of suite: unit, the VM and boot suites on each kernel of
# KERNELS (default "6.1 6.12"; make check KERNELS=6.1 for one), and the debug
# kernel's (check-debug).
#
# Of the debug kernel's suites, make check runs those that fit its time (75
# minutes in all on two CPUs under TCG) and have run clean there: the load and
# harden cycles, the fuzzer, the checkers' own proof and the report scan.
# make check-debug runs them all (host/events, every kmod suite, failslab).
CHECK_DEBUG_SUITES := guest/kmod-cycles guest/harden-*
CHECK_DEBUG_BATS := checkers reports
check:
	@scripts/ensure-deps.sh $(DEPS)
	$(MAKE) all test-progs
	FTM_DEBUG_SUITES="$(CHECK_DEBUG_SUITES)" FTM_DEBUG_BATS="$(CHECK_DEBUG_BATS)" \
		tests/run-checks --unit --vm --boot --debug

# The kmod, harden and events suites on a debug kernel (lockdep, KASAN, kmemleak,
# UBSAN, ...) built once from linux-source-6.1 and cached (tests/debug/), in a copy
# of the tree built against it: the main tree's build is left as it is.
check-debug:
	@scripts/ensure-deps.sh $(DEPS)
	tests/run-checks --debug

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

-include mk/install.mk
-include mk/demo.mk
-include mk/compat.mk
