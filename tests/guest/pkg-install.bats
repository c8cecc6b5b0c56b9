#!/usr/bin/env bats
# kernels: one (it installs DKMS for every kernel with headers itself, 6.12 included)
# `make install` into the guest's (overlay) root, for real: depmod, modprobe
# and libkmod find the module, man and bash-completion find their files,
# systemd-analyze accepts the units with everything in place; then
# `make uninstall` takes it all away again except the configuration.
# Then DKMS, as a user installs it, for every kernel with headers: the running
# one's, and 6.12's when scripts/fetch-kernel.sh left its .debs in the cache
# (dpkg -i in the guest's throwaway overlay root; the headers' own hook runs DKMS).
# vm: --timeout 2400
# (make install and uninstall each run depmod over the whole module tree: about a
# minute apiece under TCG.  DKMS: about 4 minutes to build for 6.1, 9 to unpack the
# 6.12 headers and build for it, measured with the machine's two CPUs shared.)

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

# The source tree as dkms add takes it: the tracked files, no build products.
dkms_add_once() {
	[ -d /var/lib/dkms/flushtm/0.1 ] && return 0
	mkdir -p /usr/src/flushtm-0.1
	(cd "$FTM_TOP" && git ls-files -z | cpio -0 -pdm --quiet /usr/src/flushtm-0.1)
	dkms add -m flushtm -v 0.1
}

# dkms_installed_for KVER: dkms status says installed for KVER, and the module it
# installed carries KVER's vermagic.
dkms_installed_for() {
	local out ko
	out=$(dkms status flushtm 2> /dev/null)
	echo "$out"
	grep -q "^flushtm/0.1, $1, x86_64: installed" <<<"$out" || return 1
	ko=$(ls /lib/modules/"$1"/updates/dkms/flushtm.ko* 2> /dev/null | head -n1)
	[ -n "$ko" ] || { echo "no flushtm.ko under /lib/modules/$1/updates/dkms" >&2; return 1; }
	[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$1" ] ||
		{ echo "$ko: vermagic $(modinfo -F vermagic "$ko"), want $1" >&2; return 1; }
}

@test "DKMS builds and installs the module for the running kernel" {
	command -v dkms > /dev/null || skip "dkms is not installed (make deps)"
	run dkms_add_once
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	# --no-depmod: make install and uninstall above showed depmod and modprobe.
	run dkms install --no-depmod -m flushtm -v 0.1 -k "$(uname -r)"
	[ "$status" -eq 0 ] || { echo "$output"; cat /var/lib/dkms/flushtm/0.1/build/make.log; false; }
	dkms_installed_for "$(uname -r)"
}

@test "DKMS builds and installs it for 6.12 too when its headers are installed (the headers' hook)" {
	command -v dkms > /dev/null || skip "dkms is not installed (make deps)"
	local debs=${FTM_CACHE:-/var/cache/flushtm}/apt-bookworm-backports/debs hdr common kbuild
	hdr=$(ls "$debs"/linux-headers-6.12*-amd64_*.deb 2> /dev/null | tail -n1)
	common=$(ls "$debs"/linux-headers-6.12*-common_*.deb 2> /dev/null | tail -n1)
	kbuild=$(ls "$debs"/linux-kbuild-6.12*.deb 2> /dev/null | tail -n1)
	[ -n "$hdr" ] && [ -n "$common" ] && [ -n "$kbuild" ] ||
		skip "no 6.12 headers in $debs (scripts/fetch-kernel.sh fetches them)"
	# What they depend on, other than the kernel image (not needed to build a module).
	local p missing=
	for p in gcc-12 linux-base pahole; do
		dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'install ok installed' ||
			missing+=" $p"
	done
	[ -z "$missing" ] || { echo "not installed:$missing (make deps)"; false; }
	run dkms_add_once
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	local kver
	kver=$(dpkg-deb -f "$hdr" Package)
	kver=${kver#linux-headers-}
	[ "$kver" != "$(uname -r)" ]
	# --force-depends: the image is the one dependency left out, on purpose.
	run dpkg --force-depends -i "$common" "$kbuild" "$hdr"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == *"dkms: autoinstall for kernel: $kver"* ]] || { echo "$output"; false; }
	dkms_installed_for "$kver"
	# and the running kernel's is still there
	dkms_installed_for "$(uname -r)"
}
