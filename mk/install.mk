# make install / make uninstall.  Included at the end of the top Makefile (TOP, KVER set).
#
# PREFIX defaults to /usr/local: binaries in /usr/local/sbin, units in
# /usr/local/lib/systemd/system (read by systemd on Debian 12), man pages and
# bash completion under /usr/local/share.  A distribution package uses
# PREFIX=/usr.  The units are generated from systemd/*.service.in so that
# they name the binaries where they were installed.
#
# The configuration always lives in /etc/flushtm (the binaries look there).
# It is installed only when absent and never removed by uninstall: like a
# Debian conffile, it belongs to the admin once installed.
#
# install builds nothing: "make" first as a user, then "sudo make install",
# as with the kernel's modules_install (no root-owned files in the tree, and
# no kernel rebuild inside a slow test guest).

PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
UNITDIR     ?= $(PREFIX)/lib/systemd/system
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
MODDIR      ?= /lib/modules/$(KVER)/updates
# Where DKMS puts it (dkms.conf): one copy per kernel, so when DKMS has
# installed the module for KVER, make install leaves the module to DKMS and
# installs the rest; dkms install, for its part, keeps make install's copy
# rather than add one (see dkms.conf).
DKMS_MODDIR ?= /lib/modules/$(KVER)/updates/dkms
CONFDIR     := /etc/flushtm

INSTALL     ?= install
# INSTALL_KMOD=0: everything but the module (the flushtm package: its module
# comes from flushtm-dkms).
INSTALL_KMOD ?= 1

FTM_BINS    := flushtmctl/flushtmctl flushtmd/flushtmd
FTM_UNITS   := flushtm.service flushtmd.service
FTM_MANS    := man/flushtm.4 man/flushtm.conf.5 man/flushtmctl.8 man/flushtmd.8

# depmod and systemd only when installing into this system, not a staging tree.
ftm_live = $(if $(DESTDIR),false,true)

install:
	@for f in $(if $(filter 1,$(INSTALL_KMOD)),kmod/flushtm.ko) $(FTM_BINS); do \
		[ -f "$(TOP)/$$f" ] || { echo "make install: $$f is not built: run 'make' first" >&2; exit 1; }; \
	done
	@if [ "$(INSTALL_KMOD)" != 1 ]; then \
		echo "make install: INSTALL_KMOD=$(INSTALL_KMOD): not installing kmod/flushtm.ko"; \
	elif [ -e $(DESTDIR)$(DKMS_MODDIR)/flushtm.ko ]; then \
		echo "make install: $(DESTDIR)$(DKMS_MODDIR)/flushtm.ko is DKMS's: not installing kmod/flushtm.ko (dkms remove flushtm/$(FTM_VERSION) --all to install it here)"; \
	else \
		echo "$(INSTALL) -D -m 0644 kmod/flushtm.ko $(DESTDIR)$(MODDIR)/flushtm.ko"; \
		$(INSTALL) -D -m 0644 $(TOP)/kmod/flushtm.ko $(DESTDIR)$(MODDIR)/flushtm.ko; \
	fi
	$(INSTALL) -d $(DESTDIR)$(SBINDIR)
	$(INSTALL) -m 0755 $(addprefix $(TOP)/,$(FTM_BINS)) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -d $(DESTDIR)$(UNITDIR)
	for u in $(FTM_UNITS); do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' $(TOP)/systemd/$$u.in > $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	$(INSTALL) -d $(DESTDIR)$(CONFDIR)
	@if [ -e $(DESTDIR)$(CONFDIR)/flushtm.conf ]; then \
		echo "make install: keeping existing $(DESTDIR)$(CONFDIR)/flushtm.conf"; \
	else \
		echo "$(INSTALL) -m 0644 etc/flushtm/flushtm.conf $(DESTDIR)$(CONFDIR)/flushtm.conf"; \
		$(INSTALL) -m 0644 $(TOP)/etc/flushtm/flushtm.conf $(DESTDIR)$(CONFDIR)/flushtm.conf; \
	fi
	for m in $(FTM_MANS); do \
		s=$${m##*.}; \
		$(INSTALL) -D -m 0644 $(TOP)/$$m $(DESTDIR)$(MANDIR)/man$$s/$${m#man/} || exit 1; \
	done
	$(INSTALL) -D -m 0644 $(TOP)/completion/flushtmctl $(DESTDIR)$(BASHCOMPDIR)/flushtmctl
	if $(ftm_live) && [ "$(INSTALL_KMOD)" = 1 ]; then depmod -a $(KVER); fi
	if $(ftm_live) && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

uninstall:
	if $(ftm_live) && command -v systemctl >/dev/null; then \
		systemctl disable $(FTM_UNITS) 2>/dev/null || true; fi
	rm -f $(DESTDIR)$(MODDIR)/flushtm.ko
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(notdir $(FTM_BINS)))
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(FTM_UNITS))
	for m in $(FTM_MANS); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#man/}; done
	rm -f $(DESTDIR)$(BASHCOMPDIR)/flushtmctl
	@if [ -e $(DESTDIR)$(CONFDIR)/flushtm.conf ]; then \
		echo "make uninstall: leaving $(DESTDIR)$(CONFDIR)/flushtm.conf (remove it by hand to purge)"; \
	fi
	if $(ftm_live); then depmod -a $(KVER); fi
	if $(ftm_live) && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
