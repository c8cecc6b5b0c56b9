#!/usr/bin/env bats
# flushtmd on a machine without persistent memory: it never fails, it idles
# and says so, before and after the module is there.
# vm: --no-pmem --timeout 600

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

@test "a range the kernel refuses: logged with its reason, retried once per change, no loop" {
	ftmd_write_conf <<-EOF
	[range hole]
	start = 0x40000000000
	size = 2M
	EOF
	ftmd_log_mark
	kill -HUP "$(ftmd_pid)"
	ftmd_wait_log 'cannot add d-config-hole'
	ftmd_log_new | grep 'cannot add d-config-hole' | grep -q 'enable'
	sleep 3
	[ "$(ftmd_log_new | grep -c 'cannot add')" -eq 1 ]
	ftmd_range_absent d-config-hole
	# A change (here the module's own uevent) is the next try, and only one.
	echo change > /sys/module/flushtm/uevent
	ftmd_until 10 eval '[ "$(ftmd_log_new | grep -c "cannot add")" -eq 2 ]'
	sleep 3
	[ "$(ftmd_log_new | grep -c 'cannot add')" -eq 2 ]
	kill -0 "$(ftmd_pid)"
	grep -q 'refused by the kernel' "$FTMD_NOTIFY"
}

@test "SIGTERM: exit status 0" {
	local pid=$(ftmd_pid)
	kill -TERM "$pid"
	ftmd_wait_exit "$pid"
	[ "$(cat "$FTMD_STATUS")" = 0 ]
}
