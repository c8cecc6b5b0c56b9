#!/usr/bin/env bats
# cost: 80
# flushtm as a Debian/systemd user gets it: boot systemd as PID 1 in a guest
# whose overlay root has flushtm installed by `make install` and both units
# enabled, then check what the boot did.  One boot (2-3 minutes under TCG) in
# setup_file; each test reads one part of what the guest reported.
#
# The guest has legacy pmem (memmap=64M!512M: 0x20000000, 64 MiB), and a
# conf.d snippet adds a static range over System RAM so that "config ranges
# live" is checked too.

setup_file() {
	FTM_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export FTM_TOP
	make -s -C "$FTM_TOP" all > /dev/null
	local run=$BATS_FILE_TMPDIR/run
	mkdir -p "$run/share"
	export FTM_BOOT_FACTS=$BATS_FILE_TMPDIR/facts FTM_BOOT_SERIAL=$BATS_FILE_TMPDIR/serial.log

	# Before systemd starts: install, add a static range, enable the units.
	cat > "$run/share/pre.sh" <<-EOF
	set -e
	make -s -C "$FTM_TOP" install
	mkdir -p /etc/flushtm/flushtm.conf.d
	printf '[range boot-ram]\nstart = 0x10000000\nsize = 1M\n' \\
		> /etc/flushtm/flushtm.conf.d/boot-test.conf
	systemctl enable flushtm.service flushtmd.service
	EOF

	# After multi-user.target: report facts, one "NAME: VALUE" a line.
	cat > "$run/share/checks.sh" <<-'EOF'
	cfs=/sys/kernel/config/flushtm
	fact() { printf '%s: %s\n' "$1" "$2"; }
	fact module "$([ -d /sys/module/flushtm ] && echo loaded || echo absent)"
	fact modpath "$(modinfo -n flushtm 2>&1)"
	for h in panic die nmi reboot kexec cpu_offline exit; do
		fact "hook-$h" "$(cat $cfs/hooks/$h/enabled 2>&1)"
	done
	for r in $cfs/ranges/*/; do
		[ -d "$r" ] || continue
		fact "range-$(basename "$r")" "$(cat "$r"start "$r"size "$r"enabled "$r"owner | paste -sd' ')"
	done
	for u in flushtm flushtmd; do
		fact "$u-active" "$(systemctl is-active $u.service)"
		fact "$u-result" "$(systemctl show -P Result $u.service)"
	done
	fact flushtmd-restarts "$(systemctl show -P NRestarts flushtmd.service)"
	fact flushtmd-status "$(systemctl show -P StatusText flushtmd.service)"
	fact flushtmd-watchdog-usec "$(systemctl show -P WatchdogUSec flushtmd.service)"
	fact flushtmd-caps "$(grep CapEff /proc/$(systemctl show -P MainPID flushtmd.service)/status)"
	fact journal-kernel "$(journalctl -b -k -o cat | grep -c 'flushtm: loaded, interface 1')"
	fact journal-flushtmd "$(journalctl -b -u flushtmd.service -o cat | grep -vc '^$')"
	journalctl -b -u flushtmd.service -o cat | sed 's/^/journal-flushtmd-line: /'
	journalctl -b -u flushtm.service -o cat | sed 's/^/journal-flushtm-line: /'
	fact security "$(systemd-analyze security --no-pager flushtmd.service 2>&1 |
		sed -n 's/.*Overall exposure level for flushtmd.service: \([0-9.]*\).*/\1/p')"
	flushtmctl check > /tmp/check.out 2>&1
	fact check-exit "$?"
	sed 's/^/check-line: /' /tmp/check.out
	# The design decision: stopping flushtm.service leaves the hooks armed.
	systemctl stop flushtm.service
	fact stopped-flushtm-active "$(systemctl is-active flushtm.service)"
	fact stopped-module "$([ -d /sys/module/flushtm ] && echo loaded || echo absent)"
	fact stopped-hook-reboot "$(cat $cfs/hooks/reboot/enabled 2>&1)"
	# Hot-plug under the unit's hardening: the daemon hears the uevents.
	nd_ranges() { ls -d $cfs/ranges/d-nd-* 2>/dev/null | wc -l; }
	wait_nd() { for _ in $(seq 1 100); do [ "$(nd_ranges)" = "$1" ] && break; sleep 0.2; done; nd_ranges; }
	fact event-nd-before "$(nd_ranges)"
	ndctl disable-namespace namespace0.0 > /dev/null 2>&1
	fact event-nd-disabled "$(wait_nd 0)"
	ndctl enable-namespace namespace0.0 > /dev/null 2>&1
	fact event-nd-enabled "$(wait_nd 1)"
	# A reload (SIGHUP) keeps the daemon up.
	pid0=$(systemctl show -P MainPID flushtmd.service)
	systemctl reload flushtmd.service
	sleep 2
	fact reloaded-flushtmd-active "$(systemctl is-active flushtmd.service)"
	fact reloaded-flushtmd-pid-same "$([ "$(systemctl show -P MainPID flushtmd.service)" = "$pid0" ] && echo yes || echo no)"
	exit 0
	EOF

	local rc=0
	FTM_VM_QUIET=1 "${FTM_VM_RUN:-$FTM_TOP/tests/vm/vm-run}" --dir "$run" --systemd --timeout 900 \
		--serial-log "$FTM_BOOT_SERIAL" \
		--pre "bash $run/share/pre.sh" \
		-- bash "$run/share/checks.sh" > "$FTM_BOOT_FACTS" 2> "$BATS_FILE_TMPDIR/stderr" || rc=$?
	echo "$rc" > "$BATS_FILE_TMPDIR/rc"
	# FTM_BOOT_KEEP=DIR keeps the report, the serial log and the run directory.
	if [ -n "${FTM_BOOT_KEEP:-}" ]; then
		mkdir -p "$FTM_BOOT_KEEP" && cp -r "$BATS_FILE_TMPDIR"/. "$FTM_BOOT_KEEP"/
	fi
}

# fact NAME: the value the guest reported.
fact() {
	sed -n "s/^$1: //p" "$FTM_BOOT_FACTS" | head -n1
}

show_run() {
	echo "--- guest report:"
	cat "$FTM_BOOT_FACTS"
	echo "--- vm-run stderr:"
	cat "$BATS_FILE_TMPDIR/stderr"
}

@test "the guest booted systemd and ran the checks" {
	[ "$(cat "$BATS_FILE_TMPDIR/rc")" = 0 ] || { show_run; tail -n 40 "$FTM_BOOT_SERIAL"; false; }
	grep -q '^module: ' "$FTM_BOOT_FACTS"
}

@test "flushtm.service loaded the installed module (updates/ after depmod)" {
	[ "$(fact module)" = loaded ] || { show_run; false; }
	[[ $(fact modpath) == /lib/modules/*/updates/flushtm.ko ]]
	[ "$(fact flushtm-active)" = active ]
	[ "$(fact flushtm-result)" = success ]
	[ "$(fact journal-kernel)" -ge 1 ]
}

@test "the configuration was applied: its hooks armed, exit not, its static range live" {
	local h
	for h in panic die nmi reboot kexec cpu_offline; do
		[ "$(fact "hook-$h")" = 1 ] || { show_run; false; }
	done
	[ "$(fact hook-exit)" = 0 ]
	[ "$(fact range-boot-ram)" = "0x10000000 1048576 1 config" ] || { show_run; false; }
}

@test "flushtmd is active, notified ready, watched, and found the pmem" {
	[ "$(fact flushtmd-active)" = active ] || { show_run; false; }
	[ "$(fact flushtmd-restarts)" = 0 ]
	# STATUS= only comes through sd_notify, READY=1 made the unit active.
	[ -n "$(fact flushtmd-status)" ]
	[ "$(fact flushtmd-watchdog-usec)" != 0 ]
	# A range of the daemon's over the legacy pmem at 0x20000000.
	grep -E '^range-d-[^:]*: 0x20000000 67108864 1 flushtmd$' "$FTM_BOOT_FACTS" ||
		{ show_run; false; }
}

@test "flushtmd runs with CAP_SYS_ADMIN as its only capability" {
	# CAP_SYS_ADMIN is bit 21.
	[ "$(fact flushtmd-caps)" = "CapEff:	0000000000200000" ] || { show_run; false; }
}

@test "the journal has the daemon's and the service's lines" {
	[ "$(fact journal-flushtmd)" -ge 1 ] || { show_run; false; }
	grep -q '^journal-flushtmd-line: .*0x20000000' "$FTM_BOOT_FACTS" ||
		grep -q '^journal-flushtmd-line: .*d-' "$FTM_BOOT_FACTS" || { show_run; false; }
}

@test "systemd-analyze security rates the running flushtmd.service 4.0 or lower" {
	local s
	s=$(fact security)
	echo "exposure score in the guest: $s" >&3
	[ -n "$s" ] || { show_run; false; }
	awk -v s="$s" 'BEGIN { exit !(s <= 4.0) }'
}

@test "flushtmctl check finds no gap after boot" {
	[ "$(fact check-exit)" = 0 ] || { show_run; false; }
}

@test "stopping flushtm.service leaves the module loaded and the hooks armed" {
	[ "$(fact stopped-flushtm-active)" = inactive ] || { show_run; false; }
	[ "$(fact stopped-module)" = loaded ]
	[ "$(fact stopped-hook-reboot)" = 1 ]
}

@test "under the unit's hardening flushtmd follows a namespace disabled and enabled again" {
	[ "$(fact event-nd-before)" = 1 ] || { show_run; false; }
	[ "$(fact event-nd-disabled)" = 0 ] || { show_run; false; }
	[ "$(fact event-nd-enabled)" = 1 ] || { show_run; false; }
}

@test "reloading flushtmd (SIGHUP) keeps the same process running" {
	[ "$(fact reloaded-flushtmd-active)" = active ] || { show_run; false; }
	[ "$(fact reloaded-flushtmd-pid-same)" = yes ]
}

@test "at power off, with flushtm.service stopped, the reboot hook still flushed both ranges" {
	# The checks stopped flushtm.service; vm-run then powers off through systemd.
	grep -aE '^\[ *[0-9.]+\] flushtm: flush hook=reboot ranges=2 bytes=68157440 method=(lines|cache) ' \
		"$FTM_BOOT_SERIAL" || { grep -a 'flushtm:' "$FTM_BOOT_SERIAL"; false; }
}
