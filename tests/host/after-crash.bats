#!/usr/bin/env bats
# cost: 262
# After the crash: the user's data and trace, and flushtm's own record, survive
# the warm reboot, end to end, in one QEMU booted twice (vm-run --boots 2: no
# -no-reboot, panic=1, guest RAM kept).  Boot 1 loads flushtm as flushtm.service
# would (flushtmctl load + apply of the shipped configuration), starts flushtmd
# (which covers the memmap namespace), mounts ext4 -o dax on /dev/pmem0, starts
# lttng-sessiond with a session whose buffers live on the DAX mount
# (--shm-path), runs tests/progs/ftm-traced (numbered LTTng-UST events) and
# tests/progs/ftm-records (numbered records stored through a DAX mapping), and
# ends by a panic, a `reboot -f` or a `kexec -e`.  Boot 2 runs lttng-crash on the
# shm path and babeltrace2 on its output, reads the records back, and runs
# `flushtmctl last`, which reads the flush line of boot 1 from pstore (ramoops on
# RAM reserved with memmap=1M$0x30000000, max_reason=4 so that restarts and
# kexec dump the log too).  The guest side is tests/host/after-crash-guest.
#
# What this proves and what it cannot: a VM has no cache to lose (TCG emulates
# none), so the events and records would be there without flushtm too.  This
# proves the pipeline -- LTTng's crash buffers on a DAX file system over memmap
# pmem are readable after the reset, and flushtm's record of what it flushed at
# that reset reaches the next boot and is read correctly -- not durability on
# real hardware.

bats_require_minimum_version 1.5.0

load host-helpers

RAMOOPS='memmap=1M$0x30000000 ramoops.mem_address=0x30000000 ramoops.mem_size=0x100000 ramoops.record_size=0x40000 ramoops.max_reason=4'

setup_file() {
	host_setup_file kmod lib flushtmctl flushtmd tests/progs
	[ -x "$TOP/tests/progs/ftm-traced" ] ||
		{ echo "tests/progs/ftm-traced not built: liblttng-ust-dev missing" >&2; return 1; }
	local p
	for p in lttng lttng-sessiond lttng-crash babeltrace2; do
		command -v "$p" > /dev/null ||
			{ echo "$p not found: apt-get install lttng-tools babeltrace2" >&2; return 1; }
	done
}

setup() {
	host_setup
}

teardown() {
	host_teardown
}

# boots NAME PLAN...: one vm-run of ${#PLAN} boots (tests/host/after-crash-guest
# PLAN...), kept under $BATS_FILE_TMPDIR/NAME; B1, B2, B3: each boot's findings.
boots() {
	local name=$1
	shift
	RUN=$BATS_FILE_TMPDIR/$name
	SERIAL=$RUN/serial.log
	B1=$RUN/share/boot-1 B2=$RUN/share/boot-2 B3=$RUN/share/boot-3
	run --separate-stderr "$VMRUN" --dir "$RUN" --boots $# --timeout 900 --append "$RAMOOPS" \
		-- "$TOP/tests/host/after-crash-guest" "$@"
	[ "$status" -eq 0 ] || { echo "$stderr"; tail -n 40 "$SERIAL"; false; }
}

# show FILE...: what the guest left, for a failing assertion.
show() {
	local f
	for f; do echo "--- $f:"; cat "$f" 2> /dev/null || echo "(none)"; done
	false
}

# The trace: lttng-crash and babeltrace2 succeeded and the last numbered event
# that ftm-traced wrote before the reset is in the trace read back.
assert_trace() {
	local traced
	traced=$(sed -n 's/^last event traced: //p' "$B1/traced.out")
	[ -n "$traced" ] || show "$B1/traced.out"
	[ "$(cat "$B2/lttng-crash.rc")" = 0 ] || show "$B2/lttng-crash.out"
	[ "$(cat "$B2/babeltrace.rc")" = 0 ] || show "$B2/babeltrace.err"
	grep -q "msg = \"ftm-event $traced\"" "$B2/babeltrace.out" ||
		{ tail -n 5 "$B2/babeltrace.out"; show "$B2/lttng-crash.out"; }
	# and every event before it: 1..N, once each
	[ "$(grep -c 'msg = "ftm-event [0-9]*"' "$B2/babeltrace.out")" = "$traced" ] ||
		show "$B2/lttng-crash.out"
}

# The records: the last one stored through the DAX mapping is read back.
assert_records() {
	local stored
	stored=$(sed -n 's/^last record stored: //p' "$B1/records.out")
	[ -n "$stored" ] || show "$B1/records.out"
	grep -q 'mapping DAX (MAP_SYNC)' "$B1/records.out" || show "$B1/records.out" "$B1/mount.out"
	[ "$(cat "$B2/records.out")" = "last record read back: $stored" ] || show "$B2/records.out"
}

# assert_last HOOK REASON: flushtmctl last on boot 2 shows boot 1's flush of the
# HOOK, with the bytes and the count of the ranges boot 1's status listed, from a
# record written during boot 1.
assert_last() {
	local hook=$1 reason=$2 j=$B2/last.json bytes ranges b1 b2
	[ "$(cat "$B2/last.rc")" = 0 ] || show "$B2/last.out" "$B2/pstore.ls"
	bytes=$(jq '[.ranges[] | select(.enabled) | .size] | add' "$B1/status.json")
	ranges=$(jq '[.ranges[] | select(.enabled)] | length' "$B1/status.json")
	[ "$bytes" -gt 0 ] || show "$B1/status.json"
	# the namespace flushtmd covers
	jq -e '.ranges[] | select(.name == "d-nd-namespace0.0" and .enabled)' "$B1/status.json" > /dev/null ||
		show "$B1/status.json"
	[ "$(jq -r .hook "$j")" = "$hook" ] || show "$j"
	[ "$(jq -r .reason "$j")" = "$reason" ] || show "$j"
	[ "$(jq -c '.flushes[-1] | [.hook, .ranges, .bytes]' "$j")" = "[\"$hook\",$ranges,$bytes]" ] ||
		show "$j" "$B1/status.json"
	[ "$(jq -r .complete "$j")" = true ]
	[ "$(jq -r .boot "$j")" = previous ]
	# written during boot 1: after it started, before boot 2 did
	b1=$(awk '{ print $2 }' "$B1/btime")
	b2=$(awk '{ print $2 }' "$B2/btime")
	[ "$(jq -r .this_boot_started_epoch "$j")" = "$b2" ] || show "$j" "$B2/btime"
	[ "$(jq -r .written_epoch "$j")" -ge "$b1" ] || show "$j" "$B1/btime"
	[ "$(jq -r .written_epoch "$j")" -le "$b2" ] || show "$j" "$B2/btime"
	grep -q "^flush      hook=$hook ranges=$ranges bytes=$bytes " "$B2/last.out" || show "$B2/last.out"
	grep -q "^last boot: ended by hook $hook, " "$B2/status.out" || show "$B2/status.out"
	# the line read back is the one boot 1 printed on its console, once
	local line
	line=$(sed -n '/vm-guest: boot 1 of/,/vm-guest: boot 2 of/p' "$SERIAL" |
		grep -o "flushtm: flush hook=$hook .*")
	[ "$(wc -l <<<"$line")" = 1 ] || { echo "$line"; false; }
	grep -qF "$(jq -r '.flushes[-1] | "hook=\(.hook) ranges=\(.ranges) bytes=\(.bytes) method=\(.method) ns=\(.ns) cpu=\(.cpu)"' "$j")" <<<"$line" ||
		{ echo "console: $line"; show "$j"; }
}

@test "panic with an LTTng session live: the last event and record are there after the reset; last shows the panic flush" {
	boots panic lttng-panic lttng-read
	assert_trace
	assert_records
	# panic=1: panic() dumps (Panic), then emergency_restart() dumps again (Emergency)
	assert_last panic Emergency
	grep -q "^kernel     Kernel panic - not syncing: sysrq triggered crash" "$B2/last.out" || show "$B2/last.out"
	# boot 1 said its end would be kept
	grep -q "^pstore: backend ramoops, max_reason 4: " "$B1/check.out" || show "$B1/check.out"
}

@test "reboot -f with an LTTng session live: the same, and last shows the reboot hook's flush" {
	boots reboot lttng-reboot lttng-read
	assert_trace
	assert_records
	assert_last reboot Shutdown
	grep -q "^kernel     reboot: Restarting system" "$B2/last.out" || show "$B2/last.out"
}

@test "kexec -e with an LTTng session live: the same, and last shows the kexec hook's flush" {
	boots kexec lttng-kexec lttng-read
	assert_trace
	assert_records
	# kernel_kexec() dumps the log (Shutdown) after the reboot notifiers ran
	assert_last kexec Shutdown
	grep -q "^kernel     kexec_core: Starting new kernel" "$B2/last.out" || show "$B2/last.out"
}

@test "a record from two boots ago is never the last: systemd-pstore archived it, the boot after ended with no dump" {
	# boot 1 panics; boot 2 runs systemd-pstore (records moved to the archive, pstore
	# emptied), reads them, then ends with no dump (ramoops removed, reboot -f);
	# boot 3 finds only boot 1's record, archived by boot 2.
	boots archive panic read-archive-then-nodump read-archive
	[ "$(cat "$B2/last.rc")" = 0 ] || show "$B2/last.out" "$B2/archive.ls" "$B2/systemd-pstore.out"
	[ "$(jq -r '[.hook, .archived] | join(" ")' "$B2/last.json")" = "panic true" ] || show "$B2/last.json"
	[ -z "$(cat "$B2/pstore-after.ls")" ] || show "$B2/pstore-after.ls"
	[ "$(cat "$B3/last.rc")" = 1 ] || show "$B3/last.out" "$B3/archive.ls"
	[ "$(jq -r .status "$B3/last.json")" = older ] || show "$B3/last.json"
	grep -q "^no record: the newest record, /var/lib/systemd/pstore/.*, was archived by systemd-pstore before this boot started: it is from two or more boots ago" \
		"$B3/last.out" || show "$B3/last.out"
	! grep -q "hook=" "$B3/last.out"
	grep -q "^last boot: no record" "$B3/status.out" || show "$B3/status.out"
}
