# Which kernel to build the module for: KDIR wins; else the running kernel's
# build tree; else (a container whose kernel has no /lib/modules tree) the
# newest installed kernel that has one.
ifeq ($(origin KDIR),undefined)
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
export KDIR KVER
