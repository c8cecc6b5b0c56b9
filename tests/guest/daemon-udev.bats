#!/usr/bin/env bats
# flushtmd with udev running, as on a real system: the events come from an
# sd-device monitor (after udev's rules) instead of the kernel's netlink group.
# vm: --timeout 600

load helpers
load ../../flushtmd/tests/daemon-helpers

setup_file() {
	ftmd_guest_setup 1
	/lib/systemd/systemd-udevd --daemon 3>&-
	local i
	for i in $(seq 100); do [ -e /run/udev/control ] && break; sleep 0.1; done
	printf '[flushtmd]\nsources = nd\n' > "$FTMD_CONF"
	ftmd_start
}

teardown_file() {
	ftmd_stop_quietly
	udevadm control --exit 2> /dev/null || true
}

@test "udev running: events come from the sd-device monitor" {
	ftmd_wait_ready
	ftmd_log_has 'events from udev'
	ftmd_wait_range d-nd-namespace0.0
}

@test "namespace disabled and enabled: range follows" {
	ndctl disable-namespace namespace0.0
	ftmd_wait_gone d-nd-namespace0.0
	ndctl enable-namespace namespace0.0
	ftmd_wait_range d-nd-namespace0.0
	ftmd_assert_range d-nd-namespace0.0 0x20000000 $((64 << 20))
}

@test "module removed and loaded again: pushed again" {
	ftmd_log_mark
	ftm_unload
	ftmd_wait_log 'waiting for it'
	ftm_load
	ftmd_wait_range d-nd-namespace0.0
	ftmd_assert_unique
}
