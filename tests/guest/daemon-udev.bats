#!/usr/bin/env bats
# flushtmd with udev running, as on a real system: the events come from an
# sd-device monitor (after udev's rules) instead of the kernel's netlink group.
# vm: --timeout 600
# cost: 40

load helpers
load ../../flushtmd/tests/daemon-helpers

setup_file() {
	ftmd_guest_setup 1
	# No descriptor of bats' own to udevd or its workers: a worker still
	# running when the suite ends (udevd's exit waits for it) held the output
	# pipe, and bats with it, until vm-run's timeout (once in ~20 runs).
	/lib/systemd/systemd-udevd --daemon < /dev/null > /dev/null 2>&1 3>&-
	local i
	for i in $(seq 100); do [ -e /run/udev/control ] && break; sleep 0.1; done
	printf '[flushtmd]\nsources = nd\n' > "$FTMD_CONF"
	ftmd_start
}

teardown_file() {
	ftmd_stop_quietly
	udevadm control --timeout 10 --exit 2> /dev/null || true
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

# Issue 11: the shipped configuration on legacy pmem (memmap=64M!512M) used to
# register d-iomem-20000000 and d-nd-namespace0.0 for the same 64 MiB.
@test "shipped config, legacy pmem: one range, named after the namespace; check agrees" {
	ftmd_start --config "$FTM_TOP/etc/flushtm/flushtm.conf"
	ftmd_wait_ready
	ftmd_wait_range d-nd-namespace0.0
	ftmd_assert_range d-nd-namespace0.0 0x20000000 $((64 << 20))
	ftmd_log_has 'sources nd dax iomem'
	ftmd_range_absent d-iomem-20000000
	[ "$(ftmd_our_ranges | wc -l)" -eq 1 ]
	output=$("$FTMCTL" --json check 2> /dev/null) || true
	echo "$output"
	[ "$(jq -c '[.pmem[] | [.name, .covered]]' <<<"$output")" = '[["20000000",true]]' ]
	[ "$(jq -c '[.namespaces[] | [.name, .covered]]' <<<"$output")" = '[["namespace0.0",true]]' ]
	[ "$(jq '[.gaps[] | select(.kind == "uncovered")] | length' <<<"$output")" -eq 0 ]
}

@test "shipped config: persistent memory no namespace covers is still registered" {
	ndctl disable-namespace namespace0.0
	ftmd_wait_range d-iomem-20000000
	ftmd_wait_gone d-nd-namespace0.0
	ftmd_assert_range d-iomem-20000000 0x20000000 $((64 << 20))
	output=$("$FTMCTL" --json check 2> /dev/null) || true
	[ "$(jq -c '.namespaces' <<<"$output")" = '[]' ]
	[ "$(jq '[.gaps[] | select(.kind == "uncovered")] | length' <<<"$output")" -eq 0 ]
	ndctl enable-namespace namespace0.0
	ftmd_wait_range d-nd-namespace0.0
	ftmd_wait_gone d-iomem-20000000
	ftmd_assert_unique
}

@test "check --json when a source cannot be read (not root): pmem and namespaces are [], a gap says why" {
	output=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$FTMCTL" --json check 2> /dev/null) || true
	echo "$output"
	jq -e . <<<"$output" > /dev/null
	[ "$(jq -c '.pmem' <<<"$output")" = '[]' ]
	[ "$(jq -c '.namespaces' <<<"$output")" = '[]' ]
	[ "$(jq '.ok' <<<"$output")" = false ]
	jq -e '[.gaps[] | select(.kind == "unreadable")] | length >= 1' <<<"$output"
	# As root the same source reads: the empty list above is the rule, not the machine.
	output=$("$FTMCTL" --json check 2> /dev/null) || true
	[ "$(jq '.pmem | length' <<<"$output")" -eq 1 ]
}
