#!/usr/bin/env bats
# kernels: one (it tests the installation, not the kernel)
# `make install` into the guest's (overlay) root, for real: depmod, modprobe
# and libkmod find the module, man and bash-completion find their files,
# systemd-analyze accepts the units with everything in place; then
# `make uninstall` takes it all away again except the configuration.
# DKMS, for the running kernel and for 6.12 through the kernel's hook, is
# pkg-deb.bats's, as the flushtm-dkms package installs it; dkms add of a source
# tree is tests/host/install.bats's.
# vm: --timeout 900
# cost: 323
# (make install and uninstall each run depmod over the whole module tree: about a
# minute apiece under TCG.)

load helpers

setup_file() {
	cd "$FTM_TOP" || return 1
	make -s install > "$BATS_FILE_TMPDIR/install.out" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/install.out" >&2; return 1; }
	ftm_mount_configfs
}

teardown() {
	if [ -d /sys/module/flushtm ]; then
		ftm_unload
	fi
}

@test "make install put the module under updates/ and ran depmod" {
	[ "$(modinfo -n flushtm)" = "/lib/modules/$(uname -r)/updates/flushtm.ko" ]
	grep -q '^updates/flushtm.ko:' "/lib/modules/$(uname -r)/modules.dep"
	cmp "$FTM_KO" "/lib/modules/$(uname -r)/updates/flushtm.ko"
}

@test "modprobe flushtm loads the installed module; the installed flushtmctl sees it" {
	modprobe flushtm
	[ -d "$CFS" ]
	[ "$(command -v flushtmctl)" = /usr/local/sbin/flushtmctl ]
	run flushtmctl status
	[ "$status" -eq 0 ]
	[[ $output == *"loaded, interface 1"* ]]
}

@test "flushtmctl load by name (libkmod, module index) and unload" {
	run flushtmctl load
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ -d /sys/module/flushtm ]
	run flushtmctl unload
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ ! -d /sys/module/flushtm ]
}

@test "flushtm.service's commands bring the shipped configuration up" {
	local u=/usr/local/lib/systemd/system/flushtm.service cmd
	# Run the unit's ExecStart lines as systemd would, in order.
	while IFS= read -r cmd; do
		$cmd
	done < <(sed -n 's/^ExecStart=//p' "$u")
	local h
	for h in panic die nmi reboot kexec cpu_offline; do
		[ "$(cat "$CFS/hooks/$h/enabled")" = 1 ]
	done
	# Again (a restart): modprobe of a loaded module and a second apply are no-ops.
	while IFS= read -r cmd; do
		$cmd
	done < <(sed -n 's/^ExecStart=//p' "$u")
}

@test "man finds every installed page" {
	# Debian's /usr/local/man is a link to share/man: compare real paths.
	# One man and one realpath for the four (man prints them in order, and
	# fails if one is missing): each exec costs a second or more under TCG.
	local found
	found=$(man -w 4 flushtm 5 flushtm.conf 8 flushtmctl 8 flushtmd)
	found=$(realpath $found)
	[ "$found" = "$(printf '%s\n' /usr/local/share/man/man4/flushtm.4 \
		/usr/local/share/man/man5/flushtm.conf.5 \
		/usr/local/share/man/man8/flushtmctl.8 /usr/local/share/man/man8/flushtmd.8)" ]
	LC_ALL=C.UTF-8 MANWIDTH=80 man 8 flushtmctl | grep -q '^SYNOPSIS'
}

@test "bash-completion loads the installed completion on demand" {
	[ -r /usr/share/bash-completion/bash_completion ] || skip "bash-completion is not installed"
	run bash -c 'source /usr/share/bash-completion/bash_completion
		__load_completion flushtmctl && complete -p flushtmctl'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == *"-F _flushtmctl flushtmctl"* ]]
}

@test "systemd-analyze verify is silent on the installed units (binaries and man pages found)" {
	# verify checks each Documentation=man: page by running `man SECTION PAGE`
	# to /dev/null: five full renderings, most of a minute under TCG.  With
	# MANOPT=-w each of those runs only looks the page up, which is the claim
	# here (a missing page still fails with code 16); that the pages render
	# without a warning is tests/host/install.bats's claim.
	run env MANOPT=-w systemd-analyze verify --recursive-errors=no \
		/usr/local/lib/systemd/system/flushtm.service \
		/usr/local/lib/systemd/system/flushtmd.service
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "make uninstall removes what install put, keeps the config, and depmod forgets the module" {
	cd "$FTM_TOP"
	run make -s uninstall
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ ! -e "/lib/modules/$(uname -r)/updates/flushtm.ko" ]
	! modinfo -n flushtm 2> /dev/null
	! grep -q 'flushtm.ko:' "/lib/modules/$(uname -r)/modules.dep"
	[ ! -e /usr/local/sbin/flushtmctl ] && [ ! -e /usr/local/sbin/flushtmd ]
	[ ! -e /usr/local/lib/systemd/system/flushtm.service ]
	[ ! -e /usr/local/lib/systemd/system/flushtmd.service ]
	[ ! -e /usr/local/share/man/man8/flushtmctl.8 ]
	[ ! -e /usr/local/share/bash-completion/completions/flushtmctl ]
	[ -f /etc/flushtm/flushtm.conf ]
}
