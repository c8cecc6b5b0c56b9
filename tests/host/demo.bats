#!/usr/bin/env bats
# kernels: one (make demo and make check from a clean clone: the build, not a kernel)
# cost: 139
# First contact: the README's two commands, `make demo` and `make check`, as the
# very first commands in a clean clone of HEAD on a machine without the kernel
# headers.  Each runs the clone's real top-level make in a private mount
# namespace where /lib/modules is an empty directory until the dependency step
# has run: there, `dpkg-query` says the kernel packages are missing, and
# `apt-get install` (a stand-in on PATH: nothing is downloaded) mounts the
# real /lib/modules back, as installing linux-headers-amd64 would make it
# appear.  So make parses mk/kernel.mk before the headers exist, exactly as on a
# fresh machine, and must still build against them once they do.
#
# `make demo` then goes all the way: builds everything itself, boots the guest,
# shows the daemon's range in `flushtmctl status`, stores numbered records on a
# DAX file system, panics, and shows the panic hook's flush report; the same
# machine boots again and shows `flushtmctl last` (that flush, read back from
# pstore) and the last record read back.  `make check` runs for real up to its test runner, which
# is replaced in that clone by one that checks what the build left (the suites
# themselves are this run's).

# fresh_machine_make NAME TARGET [PREPARE]: clone HEAD to $BATS_FILE_TMPDIR/NAME,
# run PREPARE in the clone if given, then `make TARGET` there as a first command;
# output in NAME.out, status NAME.rc, what the stand-in apt-get was asked in
# NAME/state/apt.log.
fresh_machine_make() {
	local target=$2 prepare=${3:-} d=$BATS_FILE_TMPDIR/$1
	local state=$d/state clone=$d/clone shims=$d/shims
	mkdir -p "$state/modules" "$shims"
	git clone -q --no-hardlinks "$FTM_TOP" "$clone"
	[ -z "$prepare" ] || (cd "$clone" && "$prepare")
	cat > "$shims/dpkg-query" <<-'EOF'
	#!/bin/bash
	# The kernel packages are missing until the stand-in apt-get installs them.
	if [ ! -e "$FTM_FRESH_STATE/installed" ]; then
		for a; do
			case $a in
			(linux-headers-amd64 | linux-image-amd64)
				echo "dpkg-query: no packages found matching $a" >&2
				exit 1 ;;
			esac
		done
	fi
	exec /usr/bin/dpkg-query "$@"
	EOF
	cat > "$shims/apt-get" <<-'EOF'
	#!/bin/bash
	# Installing brings the kernel trees back; nothing else is done.
	echo "apt-get $*" >> "$FTM_FRESH_STATE/apt.log"
	case " $* " in
	(*" install "*)
		mount --bind "$FTM_FRESH_STATE/modules" /lib/modules &&
		touch "$FTM_FRESH_STATE/installed" ;;
	esac
	EOF
	chmod +x "$shims/dpkg-query" "$shims/apt-get"
	local rc=0
	FTM_FRESH_STATE=$state PATH=$shims:$PATH unshare --mount --propagation private \
		bash -c '
		set -e
		mount --bind /lib/modules "$FTM_FRESH_STATE/modules"
		mount -t tmpfs -o size=1M fresh /lib/modules
		[ -z "$(ls -A /lib/modules)" ]
		exec make -C "$1" "$2"' fresh "$clone" "$target" > "$d.out" 2>&1 || rc=$?
	echo "$rc" > "$d.rc"
}

setup_file() {
	FTM_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export FTM_TOP FTM_DEMO_OUT=$BATS_FILE_TMPDIR/demo.out
	local kver
	kver=$(ls -1 /lib/modules | sort -V | while read -r v; do
		[ -e "/lib/modules/$v/build" ] && echo "$v"; done | tail -n1)
	export FTM_KVER=$kver
	fresh_machine_make demo demo
	fresh_machine_make check check stand_in_runner
}

# The runner that `make check` reaches in its clone: it passes only when the
# module and the test programs were built, and says for which kernel.
stand_in_runner() {
	cat > tests/run-checks <<-'EOF'
	#!/bin/bash
	set -e
	v=$(modinfo -F vermagic kmod/flushtm.ko)
	echo "runner: kmod/flushtm.ko vermagic $v"
	ls tests/modules/*.ko flushtmctl/flushtmctl flushtmd/flushtmd tests/fuzz/ftm-fuzz
	echo "1 passed, 0 failed, 0 skipped"
	EOF
}

show() {
	echo "--- make $1 said:"
	cat "$BATS_FILE_TMPDIR/$1.out"
	echo "--- apt-get was asked:"
	cat "$BATS_FILE_TMPDIR/$1/state/apt.log" 2>/dev/null || echo "(nothing)"
}

@test "make demo as the first command on a machine without kernel headers succeeds" {
	[ "$(cat "$BATS_FILE_TMPDIR/demo.rc")" = 0 ] || { show demo; false; }
	# the dependency step really ran, and before the build
	grep -q '^apt-get .*install .*linux-headers-amd64' "$BATS_FILE_TMPDIR/demo/state/apt.log" ||
		{ show demo; false; }
	grep -q 'running make deps' "$FTM_DEMO_OUT"
}

@test "make check as the first command builds against the kernel that appeared" {
	[ "$(cat "$BATS_FILE_TMPDIR/check.rc")" = 0 ] || { show check; false; }
	grep -q '^apt-get .*install .*linux-headers-amd64' "$BATS_FILE_TMPDIR/check/state/apt.log" ||
		{ show check; false; }
	grep -q "^runner: kmod/flushtm.ko vermagic $FTM_KVER " "$BATS_FILE_TMPDIR/check.out" ||
		{ show check; false; }
	grep -q '^1 passed, 0 failed, 0 skipped$' "$BATS_FILE_TMPDIR/check.out"
}

@test "make demo built the module, the CLI and the daemon in the clone" {
	grep -qE '^[0-9]+ kmod/flushtm.ko$' "$FTM_DEMO_OUT" || { show demo; false; }
	grep -qE '^[0-9]+ flushtmctl/flushtmctl$' "$FTM_DEMO_OUT"
	grep -qE '^[0-9]+ flushtmd/flushtmd$' "$FTM_DEMO_OUT"
}

@test "make demo shows flushtmctl status with the range flushtmd found" {
	grep -q '^\$ .*flushtmctl status' "$FTM_DEMO_OUT" || { show demo; false; }
	# The daemon's range over the legacy pmem, as status lists it.
	sed -n '/flushtmctl status/,/^== /p' "$FTM_DEMO_OUT" | grep -E 'd-(nd|iomem|dax)-' ||
		{ show demo; false; }
}

@test "make demo shows the panic and the flush report of the panic hook" {
	grep -q 'Kernel panic' "$FTM_DEMO_OUT" || { show demo; false; }
	grep -Eq '^flushtm: flush hook=panic ranges=[1-9][0-9]* bytes=[1-9][0-9]* method=(lines|cache) ns=[0-9]+ cpu=[0-9]+( cpus=[0-9]+ taken=[0-9]+)?$' \
		"$FTM_DEMO_OUT" || { show demo; false; }
}

@test "make demo boots the same machine again and shows flushtmctl last: boot 1's panic flush, from pstore" {
	grep -q '^== Boot 2 of the same machine' "$FTM_DEMO_OUT" || { show demo; false; }
	local last
	last=$(sed -n '/^\$ .*flushtmctl last/,/^\$ /p' "$FTM_DEMO_OUT")
	grep -qx 'ended by   panic' <<<"$last" || { show demo; false; }
	grep -qx 'boot       the previous one' <<<"$last" || { show demo; false; }
	# the flush line boot 1 printed on its console, read back on boot 2
	local console
	console=$(grep -E '^flushtm: flush hook=panic ' "$FTM_DEMO_OUT" | head -n 1)
	[ -n "$console" ] || { show demo; false; }
	# (last shows the size for humans too: "bytes=67108864 (64M)")
	sed 's/ ([0-9.]*[KMGT]*)//' <<<"$last" | grep -qE "^flush      ${console#flushtm: flush } at [0-9.]+ s$" ||
		{ echo "$console"; show demo; false; }
	grep -qE '^flushtmctl last: hook=panic ranges=1 bytes=67108864 ' "$FTM_DEMO_OUT" || { show demo; false; }
}

@test "make demo reads back on boot 2 the last record boot 1 stored on the DAX file system" {
	local stored
	stored=$(sed -n 's/^last record stored: //p' "$FTM_DEMO_OUT")
	[ -n "$stored" ] || { show demo; false; }
	grep -q 'mapping DAX (MAP_SYNC); not flushed' "$FTM_DEMO_OUT" || { show demo; false; }
	grep -qx "last record read back: $stored" "$FTM_DEMO_OUT" || { show demo; false; }
	grep -q "^records: $stored stored in boot 1 .*, the last one read back in boot 2: $stored$" "$FTM_DEMO_OUT" ||
		{ show demo; false; }
}
