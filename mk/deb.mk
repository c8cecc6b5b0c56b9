# make deb: the Debian packages, built by dpkg-buildpackage -us -uc -b in a
# clean copy of the tree (git's tracked and untracked files, not the ignored
# build products), then checked by lintian (errors and warnings fail).
# Output in build/deb/: flushtm-dkms_VERSION_all.deb, flushtm_VERSION_ARCH.deb,
# the .changes and .buildinfo, lintian.txt.
DEB_OUT := $(TOP)/build/deb

deb:
	rm -rf $(DEB_OUT) && mkdir -p $(DEB_OUT)/src/flushtm-$(FTM_VERSION)
	git -C $(TOP) ls-files -z -c -o --exclude-standard | \
		tar -C $(TOP) --null -T - --ignore-failed-read -cf - 2>/dev/null | \
		tar -C $(DEB_OUT)/src/flushtm-$(FTM_VERSION) -xf -
	cd $(DEB_OUT)/src/flushtm-$(FTM_VERSION) && dpkg-buildpackage -us -uc -b
	mv $(DEB_OUT)/src/*.deb $(DEB_OUT)/src/*.changes $(DEB_OUT)/src/*.buildinfo $(DEB_OUT)/
	rm -rf $(DEB_OUT)/src
	lintian --fail-on error,warning $(DEB_OUT)/flushtm_$(FTM_VERSION)_*.changes \
		> $(DEB_OUT)/lintian.txt 2>&1; rc=$$?; cat $(DEB_OUT)/lintian.txt; exit $$rc
