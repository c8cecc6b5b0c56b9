# make demo: see scripts/demo.sh.  Included at the end of the top Makefile.
demo:
	@FTM_DEPS="$(DEPS)" MAKE="$(MAKE)" $(TOP)/scripts/demo.sh
