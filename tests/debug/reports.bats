#!/usr/bin/env bats
# order: last (run-checks starts it once every other debug suite has ended: it judges their serial logs)
# cost: 20
# Zero reports from the debug kernel's checkers in every guest that the debug
# suites booted (tests/run-checks --debug keeps their serial logs in
# $FTM_DEBUG_SUITE_LOGS, with the command each ran beside it).  vm-run already
# fails a suite on such a report, except where it does not look: runs with
# --expect-down (panic, reboot, kexec) or --allow-oops.  These tests read every
# log, those included, one checker each.  tests/debug/checkers.bats shows that
# each checker does report, and that these patterns match its reports.

bats_require_minimum_version 1.5.0

setup_file() {
	if [ -z "${FTM_DEBUG_SUITE_LOGS:-}" ] || [ ! -d "$FTM_DEBUG_SUITE_LOGS" ]; then
		echo "FTM_DEBUG_SUITE_LOGS is not a directory: run this through tests/run-checks --debug" >&2
		return 1
	fi
}

# logs: the serial logs, one a line.
logs() {
	ls -1 "$FTM_DEBUG_SUITE_LOGS"/serial-*.log 2> /dev/null
}

# assert_none ERE WHAT: no log has a line matching ERE; else print each hit with
# its log and the command that guest ran.
assert_none() {
	local f hits bad=0
	[ -n "$(logs)" ] || { echo "no serial logs in $FTM_DEBUG_SUITE_LOGS: the suites booted no guest" >&2; return 1; }
	while read -r f; do
		hits=$(grep -E -m 5 "$1" "$f") || continue
		bad=1
		echo "$2 in $f (command: $(tail -n 1 "${f%.log}.cmd" | cut -c1-100)):" >&2
		echo "$hits" >&2
	done < <(logs)
	return $bad
}

# assert_every ERE WHAT: every log has a line matching ERE.
assert_every() {
	local f bad=0
	[ -n "$(logs)" ] || { echo "no serial logs in $FTM_DEBUG_SUITE_LOGS" >&2; return 1; }
	while read -r f; do
		grep -qE "$1" "$f" && continue
		bad=1
		echo "$f: no $2 (command: $(tail -n 1 "${f%.log}.cmd" | cut -c1-100))" >&2
	done < <(logs)
	return $bad
}

@test "every guest of the debug suites booted the debug kernel with its checkers on" {
	[ "$(logs | wc -l)" -ge 1 ]
	kver=$(ls -1 "$FTM_DEBUG_KERNEL/lib/modules")
	assert_every "Linux version $kver " "debug kernel"
	assert_every 'Lock dependency validator' "lockdep banner"
	assert_every 'KernelAddressSanitizer initialized' "KASAN banner"
	assert_every 'kfence: initialized' "KFENCE banner"
	# kmemleak says nothing at boot unless it failed
	assert_none 'kmemleak: .*(disabled|Cannot allocate|failed)' "kmemleak off"
}

@test "lockdep: no report, and lockdep still on after every command that returned" {
	assert_none 'possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|lock held when returning to user space|bad unlock balance|held lock freed|lock held at task exit|BUG: (MAX_|looking up invalid subclass)|trying to register non-static key|Voluntary context switch within RCU|circular locking dependency|possible irq lock inversion|HARDIRQ-safe -> HARDIRQ-unsafe|SOFTIRQ-safe -> SOFTIRQ-unsafe' "lockdep report"
	# Lockdep also turns itself off at an oops (the kernel is tainted "lockdep
	# unreliable"), and the events suite provokes some: off with no oops in the
	# log is a report these patterns do not know.
	local f bad=0
	while read -r f; do
		grep -q 'lockdep debug_locks=0' "$f" || continue
		grep -qE ': [0-9a-f]{4} \[#[0-9]+\]' "$f" && continue
		echo "lockdep turned off with no oops in $f" >&2
		bad=1
	done < <(logs)
	[ "$bad" = 0 ]
	# at least one guest's command returned and lockdep was on at its end
	cat $(logs) | grep -q 'lockdep debug_locks=1'
}

@test "KASAN and KFENCE: no report" {
	assert_none 'BUG: KASAN:|BUG: KFENCE:' "KASAN/KFENCE report"
}

@test "kmemleak: no unreferenced object after any command that returned" {
	assert_none 'unreferenced object 0x|kmemleak unreferenced=[1-9]' "kmemleak report"
	cat $(logs) | grep -q 'kmemleak unreferenced=0'
}

@test "UBSAN: no report" {
	assert_none 'UBSAN:' "UBSAN report"
}

@test "atomic-sleep and preemption checks: no report" {
	assert_none 'BUG: sleeping function called from invalid context|BUG: scheduling while atomic|BUG: using (smp_processor_id|__this_cpu_[a-z_]+)\(\) in preemptible|BUG: workqueue leaked lock|BUG: Invalid wait context' "atomic-sleep report"
}

@test "debug objects and list debugging: no report" {
	assert_none 'ODEBUG:|list_(add|del) corruption' "debug-objects report"
}
