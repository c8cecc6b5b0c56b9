#!/usr/bin/env bats
# flushtmd on a machine without persistent memory: it never fails, it idles
# and says so, before and after the module is there.
# vm: --no-pmem --timeout 600
# cost: 70

load helpers
load ../../flushtmd/tests/daemon-helpers

setup_file() {
	ftmd_guest_setup 0
	ftm_unload
}

teardown_file() {
	ftmd_stop_quietly
}

@test "no persistent memory in this guest" {
	! grep -q 'Persistent Memory' /proc/iomem
}

@test "module absent: READY=1, waits and says why" {
	ftmd_start
	ftmd_wait_ready
	grep -q '^STATUS=waiting for the flushtm module' "$FTMD_NOTIFY"
	ftmd_log_has 'flushtm module not loaded'
	kill -0 "$(ftmd_pid)"
}

@test "module loaded: nothing to cover, idle, says so" {
	ftm_load
	ftmd_wait_log 'no persistent memory to cover: idle'
	ftmd_until 10 grep -q '^STATUS=idle: no persistent memory to cover' "$FTMD_NOTIFY"
	[ -z "$(ftmd_our_ranges)" ]
}

@test "a range the kernel refuses: logged with its reason, retried on a change, no loop" {
	ftmd_write_conf <<-EOF
	[range hole]
	start = 0x40000000000
	size = 2M
	EOF
	# A resync period longer than the test: only changes bring a retry here.
	ftmd_start --resync 600
	ftmd_wait_log 'cannot add d-config-hole'
	ftmd_log_new | grep 'cannot add d-config-hole' | grep -q 'enable'
	sleep 3
	[ "$(ftmd_log_new | grep -c 'cannot add')" -eq 1 ] || { ftmd_log_new; false; }
	# The next try is announced, a back-off away (the resync period).
	ftmd_log_has 'reconcile incomplete: retrying in 600 s'
	ftmd_range_absent d-config-hole
	# A change (here the module's own uevent) is the next try, and only one.
	echo change > /sys/module/flushtm/uevent
	ftmd_until 10 eval '[ "$(ftmd_log_new | grep -c "cannot add")" -eq 2 ]'
	sleep 3
	[ "$(ftmd_log_new | grep -c 'cannot add')" -eq 2 ] || { ftmd_log_new; false; }
	kill -0 "$(ftmd_pid)"
	grep -q 'refused by the kernel' "$FTMD_NOTIFY"
}

@test "a refused range is retried with a doubling back-off from the resync period" {
	ftmd_start --resync 1
	ftmd_wait_ready
	ftmd_wait_log 'retrying in 8 s' 120
	local delays tries
	delays=$(ftmd_log_new | grep -oE 'retrying in [0-9]+ s' | awk '{ print $3 }' | paste -sd,)
	tries=$(ftmd_log_new | grep -c 'cannot add d-config-hole')
	echo "# delays announced: $delays; $tries tries" >&3
	[[ $delays == 1,2,4,8* ]]
	# The first try, then one per retry announced before the last.
	[ "$tries" -ge 4 ]
	ftmd_range_absent d-config-hole
}

@test "two sections with one daemon name: the second dropped with its own warning, the rest reconciled" {
	ftmd_write_conf <<-EOF
	[range a:1]
	start = 0x10000000
	size = 4K

	[range a_1]
	start = 0x10001000
	size = 4K

	[range other]
	start = 0x10002000
	size = 4K
	EOF
	ftmd_log_mark
	kill -HUP "$(ftmd_pid)"
	ftmd_wait_range d-config-other
	ftmd_assert_range d-config-a_1 0x10000000 4096
	ftmd_log_has 'config a_1: its range name d-config-a_1 is taken by config a:1'
	! ftmd_log_has 'cannot read the module'
	! ftmd_log_has 'cannot plan'
	# Said once per loaded configuration, not at every reconcile.
	echo change > /sys/module/flushtm/uevent
	ftmd_until 10 eval '[ "$(ftmd_log_new | grep -c "debug: reconcile")" -ge 2 ]'
	[ "$(ftmd_log_new | grep -c 'is taken by')" -eq 1 ]
}

@test "apply moves a range make-before-break: a move to a refused address keeps the old one" {
	local f=$BATS_FILE_TMPDIR/apply.conf
	printf '[range mv]\nstart = 0x10010000\nsize = 8K\n' > "$f"
	run "$FTMCTL" apply "$f"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(< $CFS/ranges/mv/start)" = 0x10010000 ]
	printf '[range mv]\nstart = 0x40000000000\nsize = 8K\n' > "$f"
	run "$FTMCTL" apply "$f"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"range mv"* ]]
	# Nothing changed: the old range is there, enabled, and no temporary is left.
	[ "$(< $CFS/ranges/mv/start)" = 0x10010000 ]
	[ "$(< $CFS/ranges/mv/enabled)" = 1 ]
	[ ! -e "$CFS/ranges/mv:1" ]
	printf '[range mv]\nstart = 0x10020000\nsize = 8K\n' > "$f"
	run "$FTMCTL" --json apply "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -c '.changes' <<<"$output")" = '[{"what":"replace-range","detail":"mv"}]' ]
	[ "$(< $CFS/ranges/mv/start)" = 0x10020000 ]
	[ "$(< $CFS/ranges/mv/enabled)" = 1 ]
	[ ! -e "$CFS/ranges/mv:1" ]
	rmdir $CFS/ranges/mv
}

@test "a 64-byte owner and names outside our alphabet: nothing fails or hides, unload removes all" {
	local o64
	o64=$(printf 'o%.0s' {1..64})
	mkdir "$CFS/ranges/own64" "$CFS/ranges/a b" "$CFS/ranges/\$(touch ftm-pwned)" \
		"$CFS/ranges/new"$'\n'"line"
	echo "$o64" > "$CFS/ranges/own64/owner"
	[ "$(< "$CFS/ranges/own64/owner")" = "$o64" ]
	ftmd_log_mark
	echo change > /sys/module/flushtm/uevent
	ftmd_wait_log 'debug: status: '
	! ftmd_log_has 'cannot read the module'
	ftmd_log_new | grep 'debug: status: ' | grep -q holding
	output=$("$FTMCTL" --json range list 2> /dev/null)
	[ "$(jq '[.[] | select(.owner == "'"$o64"'")] | length' <<<"$output")" -eq 1 ]
	[ "$(jq 'length' <<<"$output")" -eq "$(find "$CFS/ranges" -mindepth 1 -maxdepth 1 -printf x | wc -c)" ]
	output=$("$FTMCTL" --json check 2> /dev/null) || true
	jq -e '.loaded' <<<"$output"
	run "$FTMCTL" unload
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -d /sys/module/flushtm ]
	[ ! -e ftm-pwned ] && [ ! -e /ftm-pwned ]
	ftmd_wait_log 'waiting for it'
	ftm_load
	ftmd_wait_log 'reconciled:'
}

@test "without CAP_NET_ADMIN (as in the unit) the uevent buffer is capped, and the size obtained is logged" {
	local wrap=$BATS_FILE_TMPDIR/no-net-admin rmem
	printf '#!/bin/sh\nexec setpriv --bounding-set=-net_admin --inh-caps=-net_admin %s "$@"\n' \
		"$FTMD" > "$wrap"
	chmod +x "$wrap"
	read -r rmem < /proc/sys/net/core/rmem_max
	FTMD=$wrap ftmd_start
	ftmd_wait_ready
	# The kernel reads back twice what it grants: 2 * rmem_max, not the 4 MiB asked.
	ftmd_log_has "uevent receive buffer: $((2 * rmem >> 10)) KiB (asked 4096 KiB; capped by net.core.rmem_max without CAP_NET_ADMIN)"
	grep -q CapBnd "/proc/$(ftmd_pid)/status"
	[ $(( 0x$(awk '/CapBnd/ { print $2 }' "/proc/$(ftmd_pid)/status") >> 12 & 1 )) -eq 0 ]
	# With it (root, as these tests run the daemon) it gets what it asked for.
	ftmd_start
	ftmd_wait_ready
	ftmd_log_has 'uevent receive buffer: 8192 KiB (asked 4096 KiB)'
}

@test "SIGTERM: exit status 0" {
	local pid=$(ftmd_pid)
	kill -TERM "$pid"
	ftmd_wait_exit "$pid"
	[ "$(cat "$FTMD_STATUS")" = 0 ]
}
