# make compat-check: build the module (no boot) against every kernel build tree
# found (scripts/compat-check.sh).  Included at the end of the top Makefile.
.PHONY: compat-check
compat-check:
	@MAKE="$(MAKE)" $(TOP)/scripts/compat-check.sh
