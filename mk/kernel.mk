# Which kernel to build the module for: KDIR wins; else the running kernel's
# build tree; else (a container whose kernel has no /lib/modules tree) the
# newest installed kernel that has one.
#
# Every Makefile that builds against the kernel includes this file itself, and
# nothing is exported: a top-level `make check` or `make demo` parses it before
# its first recipe installs the kernel headers (scripts/ensure-deps.sh), so a
# value computed then would be empty, and an exported empty KDIR would reach
# the sub-makes as if the user had set it.  A KDIR or KVER the user gives on
# the command line or in the environment still reaches them as usual.
include $(dir $(lastword $(MAKEFILE_LIST)))cross.mk
ifeq ($(origin KDIR)$(FTM_CROSS),undefinedarm64)
  # the newest arm64 kernel fetched by scripts/fetch-kernel-arm64.sh
  KDIR := $(shell ls -1d $(FTM_CACHE)/kernels-arm64/*/usr/src/linux-headers-*-arm64 2>/dev/null | \
	    sort -V | tail -n1)
  KVER := $(notdir $(patsubst %/,%,$(dir $(patsubst %/,%,$(dir $(patsubst %/,%,$(dir $(KDIR))))))))
  ifeq ($(KDIR),)
    $(error ARCH=arm64: no arm64 kernel headers in $(FTM_CACHE)/kernels-arm64 (scripts/fetch-kernel-arm64.sh, or KDIR=))
  endif
else ifeq ($(origin KDIR),undefined)
  KVER := $(shell uname -r)
  ifeq ($(wildcard /lib/modules/$(KVER)/build),)
    KVER := $(shell ls -1 /lib/modules 2>/dev/null | sort -V | \
	      while read v; do [ -e /lib/modules/$$v/build ] && echo $$v; done | tail -n1)
  endif
  KDIR := /lib/modules/$(KVER)/build
else
  KVER ?= $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
	    $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
endif
