# Common set-up of the tests/unit suites: flushtmctl (built if need be)
# against the fake configfs tree and fake /sys and /proc of
# lib/tests/fake-configfs.sh, in the test's own temporary directory.
#   load helpers; then in setup(): ftm_unit_setup
# Sets TOP, CTL, D (the test's directory), R (the fake configfs root).

ftm_unit_setup() {
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	CTL=$TOP/flushtmctl/flushtmctl
	[ -x "$CTL" ] || make -s -C "$TOP/flushtmctl" >&2
	# shellcheck source=../../lib/tests/fake-configfs.sh
	. "$TOP/lib/tests/fake-configfs.sh"
	D=$BATS_TEST_TMPDIR
	R=$D/flushtm
	fake_tree "$R"
	fake_sys "$D"
	export FLUSHTM_SYSFS=$D/sys FLUSHTM_PROCFS=$D/proc
	unset FLUSHTM_CONFIGFS
}

# ctl ARG...: flushtmctl on the fake tree.
ctl() { "$CTL" --root "$R" "$@"; }
