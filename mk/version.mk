# The version, in one place: the first entry of debian/changelog (a native
# package: no Debian revision).  flushtmctl --version, the module's
# MODULE_VERSION (modinfo flushtm), dkms.conf and the .debs all take it from
# there.  No dpkg-dev needed: the first line is "flushtm (VERSION) dist; ...".
FTM_VERSION := $(shell sed -n '1{s/.*(//;s/).*//;p;}' $(TOP)/debian/changelog)
