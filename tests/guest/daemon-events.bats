#!/usr/bin/env bats
# flushtmd in a real kernel: legacy pmem (namespace1.0 at 0x20000000) and an
# ACPI NVDIMM (namespace0.0), real namespace events through ndctl, SIGHUP,
# SIGKILL and restart, the module removed and loaded under it, idle CPU.
# The tests run in order on one guest, each starting from the state the
# previous one left.
# vm: --nvdimm 128M --timeout 900 --append loglevel=4

load helpers
load ../../flushtmd/tests/daemon-helpers

setup_file() {
	ftmd_guest_setup
	# A range of another owner, overlapping ours: never touched.
	ftm_range_make admin-trace $PMEM_START 4M
	echo admin > $CFS/ranges/admin-trace/owner
	ftmd_start
}

teardown_file() {
	ftmd_stop_quietly
}

@test "start: covers every namespace and persistent-memory resource, READY=1 with STATUS" {
	ftmd_wait_ready
	ftmd_assert_range d-nd-namespace1.0 0x20000000 $((64 << 20))
	ftmd_assert_range d-iomem-20000000 0x20000000 $((64 << 20))
	local ns0=$(ftmd_ns_start namespace0.0)
	ftmd_assert_range d-nd-namespace0.0 "$ns0" $((128 << 20))
	ftmd_assert_range "d-iomem-${ns0#0x}" "$ns0" $((128 << 20))
	grep -q '^READY=1' "$FTMD_NOTIFY"
	grep -q '^STATUS=holding 4 ranges' "$FTMD_NOTIFY"
	[ "$(ftmd_our_ranges | wc -l)" -eq 4 ]
}

@test "another owner's range is left alone" {
	[ "$(cat $CFS/ranges/admin-trace/owner)" = admin ]
	[ "$(cat $CFS/ranges/admin-trace/enabled)" = 1 ]
}

@test "namespace disabled: its range goes, the rest stays" {
	ndctl disable-namespace namespace0.0
	ftmd_wait_gone d-nd-namespace0.0
	[ -d $CFS/ranges/d-nd-namespace1.0 ]
	[ -d $CFS/ranges/d-iomem-20000000 ]
	ftmd_log_has 'removed d-nd-namespace0.0 (stale)'
}

@test "namespace enabled again: its range comes back" {
	ndctl enable-namespace namespace0.0
	ftmd_wait_range d-nd-namespace0.0
	[ "$(cat $CFS/ranges/d-nd-namespace0.0/enabled)" = 1 ]
}

@test "namespace reconfigured to devdax: a dax range appears, no duplicate" {
	ndctl create-namespace -f -e namespace0.0 -m devdax
	ftmd_wait_range d-dax-dax0.0
	local start=$(cat /sys/bus/dax/devices/dax0.0/resource)
	ftmd_assert_range d-dax-dax0.0 "$start" "$(cat /sys/bus/dax/devices/dax0.0/size)"
	# devdax: the namespace is claimed by nd dax0.0 and still covered, once.
	ftmd_wait_range d-nd-namespace0.0
	ftmd_assert_unique
}

@test "devdax destroyed and namespace back to fsdax: dax range removed" {
	ndctl create-namespace -f -e namespace0.0 -m fsdax
	ftmd_wait_gone d-dax-dax0.0
	ftmd_wait_range d-nd-namespace0.0
	ftmd_assert_unique
}

@test "SIGHUP with a good config: static ranges added, sources narrowed" {
	ftmd_write_conf <<-EOF
	[flushtmd]
	sources = nd

	[range static]
	start = 0x21000000
	size = 8M
	EOF
	kill -HUP "$(ftmd_pid)"
	ftmd_wait_gone d-iomem-20000000
	ftmd_wait_range d-config-static
	ftmd_assert_range d-config-static 0x21000000 $((8 << 20))
	[ -d $CFS/ranges/d-nd-namespace1.0 ]
}

@test "SIGHUP with a changed static range: replaced make-before-break, name kept" {
	ftmd_write_conf <<-EOF
	[flushtmd]
	sources = nd

	[range static]
	start = 0x21000000
	size = 16M
	EOF
	ftmd_log_mark
	kill -HUP "$(ftmd_pid)"
	ftmd_wait_log 'removed d-config-static:1 (rename)'
	ftmd_assert_range d-config-static 0x21000000 $((16 << 20))
	[ ! -d $CFS/ranges/d-config-static:1 ]
	# The order the kernel saw: new content in before the old went out.
	local seen
	seen=$(ftmd_log_new | grep -oE '(added|removed) d-config-static[^ ]*' | paste -sd,)
	[ "$seen" = "added d-config-static:1,removed d-config-static,added d-config-static,removed d-config-static:1" ]
}

@test "SIGHUP with a bad config: old one kept, nothing changed, still running" {
	local before=$(ftmd_our_ranges)
	ftmd_write_conf <<-EOF
	[flushtmd]
	sources = nd bogus
	EOF
	ftmd_log_mark
	kill -HUP "$(ftmd_pid)"
	ftmd_wait_log 'keeping the previous configuration'
	kill -0 "$(ftmd_pid)"
	[ "$(ftmd_our_ranges)" = "$before" ]
	# And the old config is still the one acted on.
	ndctl disable-namespace namespace1.0
	ftmd_wait_gone d-nd-namespace1.0
	ndctl enable-namespace namespace1.0
	ftmd_wait_range d-nd-namespace1.0
	[ -d $CFS/ranges/d-config-static ]
}

@test "SIGKILL and restart: adopts its ranges, adds nothing, no duplicates" {
	ftmd_write_conf <<-EOF
	[flushtmd]
	sources = nd

	[range static]
	start = 0x21000000
	size = 16M
	EOF
	local before=$(ftmd_our_ranges)
	kill -KILL "$(ftmd_pid)"
	ftmd_start
	ftmd_wait_ready
	[ "$(ftmd_our_ranges)" = "$before" ]
	! ftmd_log_has 'added '
	ftmd_assert_unique
}

@test "module removed under it: waits, says so; loaded again: pushes the whole set" {
	local before=$(ftmd_our_ranges)
	ftmd_log_mark
	ftm_unload
	ftmd_wait_log 'waiting for it'
	kill -0 "$(ftmd_pid)"
	ftm_load
	ftmd_wait_log 'reconciled:'
	ftmd_wait_range d-config-static
	[ "$(ftmd_our_ranges)" = "$before" ]
}

@test "idle: no CPU time over 20 s" {
	local pid=$(ftmd_pid) t0 t1
	sleep 1
	t0=$(ftmd_cpu_ticks "$pid")
	sleep 20
	t1=$(ftmd_cpu_ticks "$pid")
	echo "# idle CPU: $((t1 - t0)) ticks in 20 s" >&3
	[ $((t1 - t0)) -le 2 ]
}

@test "SIGTERM: exits 0 and leaves its ranges in place" {
	local before=$(ftmd_our_ranges) pid=$(ftmd_pid)
	kill -TERM "$pid"
	ftmd_wait_exit "$pid"
	[ "$(cat "$FTMD_STATUS")" = 0 ]
	[ "$(ftmd_our_ranges)" = "$before" ]
	ftm_assert_no_kernel_complaints
}
