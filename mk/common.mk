# Shared settings for the userspace parts; included by each sub-Makefile.
# TOP is the repository root, set by the including Makefile.

CC       ?= cc
PKG_CONFIG ?= pkg-config
include $(dir $(lastword $(MAKEFILE_LIST)))cross.mk
ifeq ($(FTM_CROSS),arm64)
# the cross compiler over the arm64 root's headers and libraries; pkg-config
# reads that root's .pc files and prefixes their paths with it
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
CC += --sysroot=$(FTM_SYSROOT)
PKG_CONFIG := PKG_CONFIG_SYSROOT_DIR=$(FTM_SYSROOT) \
	PKG_CONFIG_LIBDIR=$(FTM_SYSROOT)/usr/lib/$(FTM_MULTIARCH)/pkgconfig:$(FTM_SYSROOT)/usr/share/pkgconfig \
	pkg-config
endif
CFLAGS   ?= -O2 -g
# -Werror in the project's own builds only: a git checkout (development, and
# make check, which is the CI).  What a distribution builds (a release
# tarball, or WERROR=0) warns without failing when a newer compiler finds
# something new.  WERROR=1 forces it anywhere.
WERROR   ?= $(if $(wildcard $(TOP)/.git),1,0)
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow \
	    -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 -fno-common \
	    -I$(TOP)/lib
LDFLAGS  ?=

include $(TOP)/mk/version.mk
CFLAGS   += -DFLUSHTM_VERSION='"$(FTM_VERSION)"'

# libflushtm is linked statically into the CLI and the daemon: one library,
# one owner of the configfs layout, no shared-object versioning to maintain.
LIBFLUSHTM := $(TOP)/lib/libflushtm.a

pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1))
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1))
