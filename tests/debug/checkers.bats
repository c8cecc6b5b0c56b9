#!/usr/bin/env bats
# cost: 100
# The debug kernel's checkers are awake, and a suite would fail on what they say:
# one guest of the debug kernel commits the bugs of
# tests/debug/module/ftm_debug_bugs.ko in turn, each between two markers in the
# kernel log, and each test judges its own slice of that serial log: the checker
# reported the bug, and tests/vm/complaints (vm-run's complaint check) matches the
# report.  The same boot shows that vm-run boots the kernel of a directory and
# gives the guest that directory's modules.
#
# Run through tests/run-checks --debug (make check-debug), which builds the module
# against the debug kernel and names the kernel in FTM_DEBUG_KERNEL.

bats_require_minimum_version 1.5.0

load ../host/host-helpers

# The bugs in an order that keeps every checker alive for the next: lockdep turns
# itself off after its first report, so it goes first (the sleep under RCU is a
# lockdep report too, "Invalid wait context"); KASAN's report taints the kernel,
# which turns lockdep off as well.
BUGS="lock-order sleep-in-rcu shift leak oob-read"

setup_file() {
	host_setup_file
	if [ -z "${FTM_DEBUG_KERNEL:-}" ] || [ ! -d "$FTM_DEBUG_KERNEL" ]; then
		echo "FTM_DEBUG_KERNEL is not a kernel directory: run this through tests/run-checks --debug" >&2
		return 1
	fi
	[ -f "$TOP/tests/debug/module/ftm_debug_bugs.ko" ] || {
		echo "tests/debug/module/ftm_debug_bugs.ko is not built" >&2
		return 1
	}
	export RUN1=$BATS_FILE_TMPDIR/run SERIAL1=$BATS_FILE_TMPDIR/run/serial.log
	export TMPDIR=$BATS_FILE_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	"$VMRUN" --dir "$RUN1" --kernel-dir "$FTM_DEBUG_KERNEL" -- env TOP="$TOP" BUGS="$BUGS" bash -c '
		set -u
		mark() { echo "ftm-debug-bugs: $*" > /dev/kmsg; }
		kver=$(uname -r)
		echo "kver=$kver"
		echo "modules=$(readlink "/lib/modules/$kver")"
		echo "kernel=$FTM_VM_KERNEL"
		[ -d /sys/module/configfs ] && echo "configfs=loaded"
		insmod "$TOP/tests/debug/module/ftm_debug_bugs.ko" || exit 1
		# kmemleak prints what a scan finds in the kernel log too
		echo 1 > /sys/module/kmemleak/parameters/verbose
		for b in $BUGS; do
			mark "begin $b"
			# a task of its own, gone when the bug is done: its stack holds no
			# stale pointer to what it leaked
			sh -c "echo $b > /sys/kernel/debug/ftm_debug_bugs/trigger" ||
				echo "trigger $b: failed"
			if [ "$b" = leak ]; then
				echo scan > /sys/kernel/debug/kmemleak
				sleep 6
				echo scan > /sys/kernel/debug/kmemleak
			fi
			mark "end $b"
		done
		echo "bugs done"' > "$BATS_FILE_TMPDIR/out" 2> "$BATS_FILE_TMPDIR/err" && status=0 || status=$?
	# 125 expected (the kernel complained): the tests judge it
	echo "$status" > "$BATS_FILE_TMPDIR/status"
}

setup() {
	host_setup
	output=$(cat "$BATS_FILE_TMPDIR/out" "$BATS_FILE_TMPDIR/err")
}

teardown() {
	host_teardown
}

# slice BUG: the serial log between the markers of BUG.
slice() {
	sed -n "/ftm-debug-bugs: begin $1\$/,/ftm-debug-bugs: end $1\$/p" "$SERIAL1"
}

# assert_reported BUG ERE: the slice of BUG has the checker's report and matches
# vm-run's complaint patterns.
assert_reported() {
	local s
	s=$(slice "$1")
	[ -n "$s" ] || { echo "no slice for $1 in the serial log" >&2; return 1; }
	grep -qE "$2" <<< "$s" || { echo "no report /$2/ for $1:" >&2; echo "$s" >&2; return 1; }
	grep -qE -f "$TOP/tests/vm/complaints" <<< "$s" ||
		{ echo "tests/vm/complaints does not match the report of $1:" >&2; echo "$s" >&2; return 1; }
}

@test "the guest ran the kernel of its directory, with that directory's modules as /lib/modules" {
	kver=$(sed -n 's/^kver=//p' "$BATS_FILE_TMPDIR/out")
	[ -n "$kver" ]
	[ -f "$FTM_DEBUG_KERNEL/boot/vmlinuz-$kver" ]
	grep -qx "modules=$FTM_DEBUG_KERNEL/lib/modules/$kver" "$BATS_FILE_TMPDIR/out"
	grep -qx "kernel=$FTM_DEBUG_KERNEL/boot/vmlinuz-$kver" "$BATS_FILE_TMPDIR/out"
	# configfs is a module of that kernel: guest-init modprobed it from there
	grep -qx "configfs=loaded" "$BATS_FILE_TMPDIR/out"
	grep -q "Linux version $kver " "$SERIAL1"
}

@test "vm-run fails a run whose kernel complained (exit 125), although the command succeeded" {
	grep -qx "bugs done" "$BATS_FILE_TMPDIR/out"
	! grep -q "trigger .*: failed" "$BATS_FILE_TMPDIR/out"
	[ "$(cat "$RUN1/share/.vm/status")" = 0 ]
	[ "$(cat "$BATS_FILE_TMPDIR/status")" = 125 ]
	grep -q "vm-run: the kernel complained" "$BATS_FILE_TMPDIR/err"
}

@test "atomic-sleep checker: a mutex taken under rcu_read_lock is reported" {
	assert_reported sleep-in-rcu 'BUG: sleeping function called from invalid context'
	slice sleep-in-rcu | grep -q 'RCU nest depth: 1, expected: 0'
	slice sleep-in-rcu | grep -q 'bugs_sleep_in_rcu'
}

@test "UBSAN: a shift past the width of int is reported" {
	assert_reported shift 'UBSAN: shift-out-of-bounds in .*ftm_debug_bugs\.c'
}

@test "kmemleak: a dropped allocation is reported by a scan" {
	assert_reported leak 'unreferenced object 0x[0-9a-f]+ \(size 96\)'
	slice leak | grep -q 'bugs_leak'
	# and by the harness's own scan after the command (guest-init)
	grep -qE 'checkers after the command: kmemleak unreferenced=[1-9]' "$SERIAL1"
}

@test "lockdep: taking two mutexes in both orders is reported" {
	assert_reported lock-order 'WARNING: possible circular locking dependency detected'
	slice lock-order | grep -q 'bugs_lock_order'
}

@test "KASAN: a read one byte past a kmalloc'd buffer is reported" {
	assert_reported oob-read 'BUG: KASAN: slab-out-of-bounds in bugs_oob_read'
}
