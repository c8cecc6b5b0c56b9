#!/usr/bin/env bats
# kernels: one (installing into a staging tree: no guest)
# cost: 30
# make install / uninstall into a staging tree, the generated units, the man
# pages, bash completion and DKMS.  Runs on the host; changes nothing outside
# its temporary directories.

setup_file() {
	FTM_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export FTM_TOP
	# What make install needs; make check builds it before the suites run.
	make -s -C "$FTM_TOP" all > /dev/null
}

setup() {
	cd "$FTM_TOP" || return 1
	DEST=$BATS_TEST_TMPDIR/dest
	KVER=$(make -s --no-print-directory -f - <<-'EOF'
	include mk/kernel.mk
	all: ; @echo $(KVER)
	EOF
	)
}

# The files a default (PREFIX=/usr/local) install makes, relative to DESTDIR.
expected_files() {
	cat <<-EOF | sort
	/etc/flushtm/flushtm.conf
	/lib/modules/$KVER/updates/flushtm.ko
	/usr/local/lib/systemd/system/flushtm.service
	/usr/local/lib/systemd/system/flushtmd.service
	/usr/local/sbin/flushtmctl
	/usr/local/sbin/flushtmd
	/usr/local/share/bash-completion/completions/flushtmctl
	/usr/local/share/man/man4/flushtm.4
	/usr/local/share/man/man5/flushtm.conf.5
	/usr/local/share/man/man8/flushtmctl.8
	/usr/local/share/man/man8/flushtmd.8
	EOF
}

installed_files() {
	(cd "$DEST" && find . ! -type d | sed 's/^\.//' | sort)
}

@test "make install DESTDIR= installs exactly the expected files, no depmod on the host" {
	run make -s install DESTDIR="$DEST"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	diff -u <(expected_files) <(installed_files)
	# depmod must not have run into the staging tree (nor the host's).
	[ ! -e "$DEST/lib/modules/$KVER/modules.dep" ]
	cmp kmod/flushtm.ko "$DEST/lib/modules/$KVER/updates/flushtm.ko"
	[ -x "$DEST/usr/local/sbin/flushtmctl" ] && [ -x "$DEST/usr/local/sbin/flushtmd" ]
	[ "$(stat -c %a "$DEST/etc/flushtm/flushtm.conf")" = 644 ]
}

@test "make install leaves the module to DKMS when DKMS has installed it for that kernel" {
	local dkms_ko=$DEST/lib/modules/$KVER/updates/dkms/flushtm.ko
	mkdir -p "${dkms_ko%/*}"
	echo "DKMS's" > "$dkms_ko"
	run make -s install DESTDIR="$DEST"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"updates/dkms/flushtm.ko is DKMS's: not installing kmod/flushtm.ko"* ]]
	# One copy: DKMS's, untouched; the rest is installed.
	[ ! -e "$DEST/lib/modules/$KVER/updates/flushtm.ko" ]
	[ "$(cat "$dkms_ko")" = "DKMS's" ]
	[ -x "$DEST/usr/local/sbin/flushtmd" ]
	diff -u <(expected_files | sed "s|/updates/flushtm.ko|/updates/dkms/flushtm.ko|") \
		<(installed_files)
}

@test "-Werror in the project's own (git checkout) builds only, not in a release tarball's" {
	grep -q -- '-Werror' <(make -s -C lib -B -n libflushtm.a)
	! grep -q -- '-Werror' <(make -s -C lib -B -n WERROR=0 libflushtm.a)
	local src=$BATS_TEST_TMPDIR/tarball
	mkdir -p "$src"
	git archive HEAD lib mk | tar -x -C "$src"
	[ ! -e "$src/.git" ]
	run make -s -C "$src/lib" -B -n libflushtm.a
	[ "$status" -eq 0 ]
	grep -q -- '-Wall -Wextra' <<<"$output"
	! grep -q -- '-Werror' <<<"$output"
	run make -s -C "$src/lib" -B -n WERROR=1 libflushtm.a
	grep -q -- '-Werror' <<<"$output"
}

@test "the installed units name the installed binaries and have no placeholder left" {
	make -s install DESTDIR="$DEST"
	local u=$DEST/usr/local/lib/systemd/system
	! grep -n '@[A-Z]*@' "$u"/*.service
	grep -qx 'ExecStart=/usr/local/sbin/flushtmctl apply' "$u/flushtm.service"
	grep -qx 'ExecStart=/usr/local/sbin/flushtmd' "$u/flushtmd.service"
	make -s install DESTDIR="$DEST/usr" PREFIX=/usr
	grep -qx 'ExecStart=/usr/sbin/flushtmd' "$DEST/usr/usr/lib/systemd/system/flushtmd.service"
	[ -x "$DEST/usr/usr/sbin/flushtmctl" ]
}

@test "flushtm.service: early oneshot after configfs, no ExecStop that disarms" {
	local u=systemd/flushtm.service.in
	grep -qx 'Type=oneshot' "$u"
	grep -qx 'RemainAfterExit=yes' "$u"
	grep -qx 'DefaultDependencies=no' "$u"
	grep -Eq '^After=.*sys-kernel-config\.mount' "$u"
	grep -qx 'Before=sysinit.target' "$u"
	! grep -q '^ExecStop' "$u"
	# Not stopped at shutdown: the reboot and kexec hooks must stay armed.
	! grep -q '^Conflicts=.*shutdown.target' "$u"
}

@test "systemd-analyze verify finds nothing wrong in the installed units" {
	make -s install DESTDIR="$DEST"
	run systemd-analyze verify --man=no --recursive-errors=no \
		"$DEST"/usr/local/lib/systemd/system/flushtm.service \
		"$DEST"/usr/local/lib/systemd/system/flushtmd.service
	echo "$output"
	# The binaries are in the staging tree, not at the path the units name.
	local bad
	bad=$(grep -v 'Command /usr/local/sbin/flushtm[a-z]* is not executable' <<<"$output" |
		grep . || true)
	[ -z "$bad" ]
}

@test "systemd-analyze security rates flushtmd.service 4.0 or lower" {
	make -s install DESTDIR="$DEST"
	run systemd-analyze security --offline=yes \
		"$DEST/usr/local/lib/systemd/system/flushtmd.service"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	local score
	score=$(sed -n 's/.*Overall exposure level for flushtmd.service: \([0-9.]*\).*/\1/p' <<<"$output")
	echo "exposure score: $score"
	[ -n "$score" ]
	awk -v s="$score" 'BEGIN { exit !(s <= 4.0) }'
}

@test "an existing /etc/flushtm/flushtm.conf is kept by install and by uninstall" {
	make -s install DESTDIR="$DEST"
	echo "# edited by the admin" >> "$DEST/etc/flushtm/flushtm.conf"
	run make -s install DESTDIR="$DEST"
	[ "$status" -eq 0 ]
	[[ $output == *"keeping existing"* ]]
	grep -qx '# edited by the admin' "$DEST/etc/flushtm/flushtm.conf"
	run make -s uninstall DESTDIR="$DEST"
	[ "$status" -eq 0 ]
	grep -qx '# edited by the admin' "$DEST/etc/flushtm/flushtm.conf"
}

@test "make uninstall DESTDIR= removes everything install put except the config" {
	make -s install DESTDIR="$DEST"
	run make -s uninstall DESTDIR="$DEST"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	diff -u <(echo /etc/flushtm/flushtm.conf) <(installed_files)
}

@test "the shipped configuration is commented and has the documented defaults" {
	local c=etc/flushtm/flushtm.conf
	grep -qx 'method = auto' "$c"
	grep -qx 'hooks = panic die nmi reboot kexec cpu_offline' "$c"
	grep -qx 'sources = nd dax iomem' "$c"
	# No static range is live by default, but one is shown.
	! grep -q '^\[range ' "$c"
	grep -q '^#\[range trace\]' "$c"
	[ "$(grep -c '^#' "$c")" -gt 20 ]
}

@test "the shipped configuration passes flushtmctl's parser" {
	# Against an empty root: parsing comes first, the missing module after.
	mkdir -p "$BATS_TEST_TMPDIR/noroot"
	run flushtmctl/flushtmctl --root "$BATS_TEST_TMPDIR/noroot" apply etc/flushtm/flushtm.conf
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"not loaded"* ]]
	[[ $output != *flushtm.conf:* ]]
	# The same path fails on a bad file with file:line, so the above means something.
	printf '[flushtm]\nhooks = panic bogus\n' > "$BATS_TEST_TMPDIR/bad.conf"
	run flushtmctl/flushtmctl --root "$BATS_TEST_TMPDIR/noroot" apply "$BATS_TEST_TMPDIR/bad.conf"
	[ "$status" -eq 1 ]
	[[ $output == *bad.conf:2:* ]]
}

@test "every man page renders with man and groff with no warning" {
	local m out
	for m in man/flushtm.4 man/flushtm.conf.5 man/flushtmctl.8 man/flushtmd.8; do
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 > /dev/null)
		[ -z "$out" ] || { echo "$m: $out"; false; }
		out=$(groff -ww -z -man "$m" 2>&1)
		[ -z "$out" ] || { echo "$m: $out"; false; }
		# A NAME line that whatis/apropos can index.
		lexgrog "$m" | grep -q ' - '
		if command -v mandoc > /dev/null; then
			out=$(mandoc -T lint -W warning "$m" 2>&1)
			[ -z "$out" ] || { echo "$out"; false; }
		fi
	done
	LC_ALL=C.UTF-8 MANWIDTH=80 man -l man/flushtm.4 | grep -q 'CROSS-CPU DESIGN'
}

@test "the man pages cover every command, hook and attribute of interface.md" {
	local c h a
	for c in status enable disable 'range add' 'range del' 'range priority' 'range list' flush stats \
		'set method' 'set cache-threshold' enroll withdraw load unload apply check; do
		# Each command heads an entry: .B status, .BI "range add" ..., .BR flush ...
		grep -qE "^\.B[IR]? \"?${c}( |\"|\$)" man/flushtmctl.8 ||
			{ echo "flushtmctl.8 lacks $c"; false; }
	done
	for h in panic die nmi reboot kexec cpu_offline exit aperture manual; do
		grep -qx "\.B $h" man/flushtm.4 || { echo "flushtm.4 lacks hook $h"; false; }
	done
	for a in version method cache_threshold flush generation enabled available fired \
		flushed_bytes pids start size owner priority; do
		grep -q "^\.B $a\$" man/flushtm.4 || { echo "flushtm.4 lacks attribute $a"; false; }
	done
}

# Completion against a fake configfs tree.
complete_words() {
	bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_flushtmctl flushtmctl "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' complete "$FTM_TOP/completion/flushtmctl" "$@"
}

@test "bash completion: commands, hooks and range names from configfs" {
	[ -r /usr/share/bash-completion/bash_completion ] || skip "bash-completion is not installed"
	local root=$BATS_TEST_TMPDIR/cfs
	mkdir -p "$root"/hooks/{panic,nmi,reboot} "$root"/ranges/{trace,d-nd-namespace0.0}
	run complete_words flushtmctl st
	[ "$(echo $output)" = "status stats" ]
	run complete_words flushtmctl --root "$root" enable ""
	[ "$(echo $output)" = "all nmi panic reboot" ]
	run complete_words flushtmctl --root "$root" range del ""
	[ "$(echo $output)" = "d-nd-namespace0.0 trace" ]
	run complete_words flushtmctl --root "$root" flush t
	[ "$(echo $output)" = "trace" ]
	run complete_words flushtmctl set method ""
	[ "$(echo $output)" = "auto lines cache" ]
	run complete_words flushtmctl range ""
	[ "$(echo $output)" = "add del priority list" ]
	# Without a module: the hooks of interface 1.
	run complete_words flushtmctl --root "$BATS_TEST_TMPDIR/none" disable c
	[ "$(echo $output)" = "cpu_offline" ]
}

@test "dkms add, build, install and remove the module from the source tree (private trees)" {
	command -v dkms > /dev/null || skip "dkms is not installed (make deps)"
	local t=$BATS_TEST_TMPDIR/dkms src=$BATS_TEST_TMPDIR/dkms/flushtm
	mkdir -p "$t"/tree "$t"/src "$t/inst/$KVER" "$src"
	# The tracked files as they are on disk, without build products, and the
	# dkms.conf make made from dkms.conf.in (the version of debian/changelog).
	git ls-files -z | cpio -0 -pdm --quiet "$src"
	make -s dkms.conf && cp dkms.conf "$src"/
	local v
	v=$(make -s version)
	[ -n "$v" ]
	# Private trees, and no depmod: nothing of the host's module tree changes.
	local opts=(--dkmstree "$t/tree" --sourcetree "$t/src" --installtree "$t/inst" --no-depmod)
	run dkms add "${opts[@]}" "$src"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run dkms build "${opts[@]}" -m flushtm -v "$v" -k "$KVER"
	[ "$status" -eq 0 ] || { echo "$output"; cat "$t"/tree/flushtm/$v/build/make.log; false; }
	# make install's copy in updates/: DKMS keeps it, no second one in updates/dkms/.
	install -D -m 0644 kmod/flushtm.ko "$t/inst/$KVER/updates/flushtm.ko"
	run dkms install "${opts[@]}" -m flushtm -v "$v" -k "$KVER"
	echo "$output"
	[[ $output == *"DKMS will not replace this module"* ]]
	[ ! -e "$t/inst/$KVER/updates/dkms/flushtm.ko" ]
	rm "$t/inst/$KVER/updates/flushtm.ko"
	run dkms uninstall "${opts[@]}" -m flushtm -v "$v" -k "$KVER"
	run dkms install "${opts[@]}" -m flushtm -v "$v" -k "$KVER"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	local ko=$t/inst/$KVER/updates/dkms/flushtm.ko
	[ -f "$ko" ]
	modinfo -F vermagic "$ko" | grep -q "^$KVER "
	modinfo -F name "$ko" | grep -qx flushtm
	run dkms status "${opts[@]}" flushtm
	echo "$output"
	grep -q "flushtm/$v, $KVER, x86_64: installed" <<<"$output"
	run dkms remove "${opts[@]}" flushtm/$v --all
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ ! -e "$ko" ]
}
