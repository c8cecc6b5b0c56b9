#!/usr/bin/env bats
# flushtmd in a real kernel: legacy pmem (namespace1.0 at 0x20000000) and an
# ACPI NVDIMM (namespace0.0), real namespace events through ndctl, SIGHUP,
# SIGKILL and restart, the module removed and loaded under it, idle CPU.
# The tests run in order on one guest, each starting from the state the
# previous one left.
# vm: --nvdimm 128M --timeout 900 --append loglevel=4
# cost: 186

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

# Our ranges tile the memory of /proc/iomem resource START SIZE exactly: no
# byte twice, none left out (one range per physical extent).
tiles() {
	local start=$(($1)) end=$(($1 + $2)) pos name s z e
	pos=$start
	while read -r name s z e; do
		s=$((s))
		[ $((s + z)) -le $start ] || [ $s -ge $end ] && continue
		[ "$s" -eq "$pos" ] || { echo "tiles: $name starts at $s, not $pos" >&2; return 1; }
		pos=$((s + z))
	done < <(ftmd_our_ranges | while read -r n st sz en; do echo "$n $((st)) $sz $en"; done |
		sort -n -k2)
	[ "$pos" -eq "$end" ] || { echo "tiles: ends at $pos, not $end" >&2; return 1; }
}

@test "start: one range per extent, named after the namespace; READY=1 with STATUS" {
	ftmd_wait_ready
	ftmd_assert_range d-nd-namespace1.0 0x20000000 $((64 << 20))
	local ns0=$(ftmd_ns_start namespace0.0)
	ftmd_assert_range d-nd-namespace0.0 "$ns0" $((128 << 20))
	# /proc/iomem describes the same two extents: no second range for them.
	ftmd_range_absent d-iomem-20000000
	ftmd_range_absent "d-iomem-${ns0#0x}"
	grep -q '^READY=1' "$FTMD_NOTIFY"
	grep -q '^STATUS=holding 2 ranges' "$FTMD_NOTIFY"
	[ "$(ftmd_our_ranges | wc -l)" -eq 2 ]
	tiles 0x20000000 $((64 << 20))
	tiles "$ns0" $((128 << 20))
}

@test "check agrees: every persistent-memory resource and namespace covered" {
	output=$("$FTMCTL" --json check 2> /dev/null) || true
	echo "$output"
	[ "$(jq '[.pmem[], .namespaces[]] | length' <<<"$output")" -eq 4 ]
	[ "$(jq '[.pmem[], .namespaces[]] | all(.covered)' <<<"$output")" = true ]
	[ "$(jq '[.gaps[] | select(.kind == "uncovered")] | length' <<<"$output")" -eq 0 ]
}

@test "another owner's range is left alone" {
	[ "$(cat $CFS/ranges/admin-trace/owner)" = admin ]
	[ "$(cat $CFS/ranges/admin-trace/enabled)" = 1 ]
}

@test "namespace disabled: its memory is still covered, now by iomem, made before broken" {
	local ns0=$(ftmd_ns_start namespace0.0)
	ftmd_log_mark
	ndctl disable-namespace namespace0.0
	ftmd_wait_gone d-nd-namespace0.0
	ftmd_assert_range "d-iomem-${ns0#0x}" "$ns0" $((128 << 20))
	[ -d $CFS/ranges/d-nd-namespace1.0 ]
	ftmd_log_has 'removed d-nd-namespace0.0 (stale)'
	local seen
	seen=$(ftmd_log_new | grep -oE '(added|removed) d-[a-z]+-[^ ]*' | paste -sd,)
	[ "$seen" = "added d-iomem-${ns0#0x},removed d-nd-namespace0.0" ]
}

@test "namespace enabled again: named after it again, the iomem range goes" {
	local ns0=$(ftmd_ns_start namespace0.0)
	ndctl enable-namespace namespace0.0
	ftmd_wait_range d-nd-namespace0.0
	ftmd_wait_gone "d-iomem-${ns0#0x}"
	[ "$(ftmd_our_ranges | wc -l)" -eq 2 ]
}

@test "namespace reconfigured to devdax: still one range, the namespace's (nd wins over dax)" {
	ndctl create-namespace -f -e namespace0.0 -m devdax
	local ns0=$(ftmd_ns_start namespace0.0)
	ftmd_wait_range d-nd-namespace0.0
	ftmd_assert_range d-nd-namespace0.0 "$ns0" $((128 << 20))
	[ -e /sys/bus/dax/devices/dax0.0 ]
	ftmd_range_absent d-dax-dax0.0
	ftmd_assert_unique
	[ "$(ftmd_our_ranges | wc -l)" -eq 2 ]
}

@test "SIGHUP, sources dax iomem: the dax device, and iomem for the rest of the region" {
	ftmd_write_conf <<-EOF
	[flushtmd]
	sources = dax iomem
	EOF
	local ns0=$(ftmd_ns_start namespace0.0)
	local dstart=$(cat /sys/bus/dax/devices/dax0.0/resource)
	local dsize=$(cat /sys/bus/dax/devices/dax0.0/size)
	kill -HUP "$(ftmd_pid)"
	ftmd_wait_gone d-nd-namespace0.0
	ftmd_assert_range d-dax-dax0.0 "$dstart" "$dsize"
	# The namespace's own metadata before the device is iomem's, named by its start.
	ftmd_assert_range "d-iomem-${ns0#0x}" "$ns0" $((dstart - ns0))
	ftmd_assert_range d-iomem-20000000 0x20000000 $((64 << 20))
	tiles "$ns0" $((128 << 20))
	output=$("$FTMCTL" --json check 2> /dev/null) || true
	[ "$(jq '[.gaps[] | select(.kind == "uncovered")] | length' <<<"$output")" -eq 0 ]
}

@test "devdax destroyed and namespace back to fsdax: dax range removed, iomem whole again" {
	local ns0=$(ftmd_ns_start namespace0.0)
	ndctl create-namespace -f -e namespace0.0 -m fsdax
	ftmd_wait_gone d-dax-dax0.0
	ftmd_until 30 ftmd_assert_range "d-iomem-${ns0#0x}" "$ns0" $((128 << 20))
	tiles "$ns0" $((128 << 20))
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
	ftmd_wait_range d-nd-namespace1.0
	ftmd_wait_range d-nd-namespace0.0
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

@test "a range of ours removed behind its back: back within two resync periods (20 s)" {
	ftmd_log_mark
	rmdir $CFS/ranges/d-nd-namespace1.0
	local t0=$SECONDS
	ftmd_wait_range d-nd-namespace1.0 60
	echo "# back after $((SECONDS - t0)) s" >&3
	ftmd_log_has "the module's ranges changed"
	ftmd_assert_range d-nd-namespace1.0 0x20000000 $((64 << 20))
}

@test "idle: no wakeups but its resyncs, next to no CPU time over 20 s" {
	local pid=$(ftmd_pid) t0 t1 s0 s1
	sleep 1
	t0=$(ftmd_cpu_ticks "$pid") s0=$(ftmd_switches "$pid")
	sleep 20
	t1=$(ftmd_cpu_ticks "$pid") s1=$(ftmd_switches "$pid")
	echo "# idle: $((s1 - s0)) switches, $((t1 - t0)) ticks of CPU in 20 s (two resync looks at generation)" >&3
	# A poll would wake it hundreds of times, a spin would take ~2000
	# ticks.  The CPU bound is loose because the guest's tick accounting
	# is: under one TCG thread a vCPU that QEMU set aside for a time
	# slice (up to 100 ms) while the daemon ran on it charges the daemon
	# for all of it (5 ticks seen for the two resyncs on 6.12).
	[ $((s1 - s0)) -le 10 ]
	[ $((t1 - t0)) -le 25 ]
}

@test "SIGTERM: exits 0 and leaves its ranges in place" {
	local before=$(ftmd_our_ranges) pid=$(ftmd_pid)
	kill -TERM "$pid"
	ftmd_wait_exit "$pid"
	[ "$(cat "$FTMD_STATUS")" = 0 ]
	[ "$(ftmd_our_ranges)" = "$before" ]
	ftm_assert_no_kernel_complaints
}
