#!/usr/bin/env bats
# cost: 143
# The split crash flush (flushtm(4), "The crash flush"): at a panic, with method
# lines, the stop path asks every other CPU by NMI to walk its part of the set,
# the panicking CPU walks its own and takes over the parts nobody answered for.
# Each test panics a 4-vCPU guest of its own (64 MiB of legacy pmem, the range
# r0, loaded with crash_detail=1: one line per part after the flush line, saying
# which CPU walked it) and judges the serial log.  The sysrq crash is written
# from CPU 0, so CPU 0 is the panicking CPU.  A VM has no cache to lose: these
# tests prove which CPU walked which lines and when, not durability.

bats_require_minimum_version 1.5.0

load host-helpers

SET=67108864

setup_file() {
	host_setup_file kmod tests/modules
	[ -f "$TOP/kmod/flushtm.ko" ] && [ -f "$TOP/tests/modules/ftm_wedge.ko" ]
}

setup() {
	host_setup
}

teardown() {
	host_teardown
}

# $PARAMS: flushtm.ko's parameters (crash_detail=1 by default).
PRELUDE='
set -eu
cfs=/sys/kernel/config/flushtm
insmod "$TOP/kmod/flushtm.ko" $PARAMS
mkdir "$cfs/ranges/r0"
echo 0x20000000 > "$cfs/ranges/r0/start"
echo 64M > "$cfs/ranges/r0/size"
echo 1 > "$cfs/ranges/r0/enabled"
echo 1 > "$cfs/hooks/panic/enabled"
echo 1 > /proc/sys/kernel/sysrq
crash() { taskset -c 0 sh -c "echo c > /proc/sysrq-trigger"; }
# wedge HOW CPU: CPU spins (irqoff or in an NMI handler), then CPU 0 panics
wedge() {
	insmod "$TOP/tests/modules/ftm_wedge.ko"
	taskset -c 0 sh -c "echo \"$1 $2 panic\" > /sys/kernel/debug/ftm_wedge/wedge"
}
'

# guest [VM-RUN OPTIONS] -- SCRIPT: PRELUDE + SCRIPT in a 4-vCPU guest that goes down.
guest() {
	local opts=()
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	"$VMRUN" --dir "$RUN" --smp 4 --expect-down "${opts[@]}" -- \
		env TOP="$TOP" PARAMS="${PARAMS-crash_detail=1}" bash -c "$PRELUDE
$1"
}

# The split flush line: flush_re CPUS TAKEN
flush_re() {
	echo "flushtm: flush hook=panic ranges=1 bytes=$SET method=lines ns=([0-9]+) cpu=0 cpus=$1 taken=$2\$"
}

# parts: the crash_detail lines, "PART CPU BYTES DONE BY WAIT_NS" a line.
parts() {
	sed -nE 's/.*flushtm: crash part=([0-9]+) cpu=([0-9]+) bytes=([0-9]+) done=([0-9]+) by=(-?[0-9]+) wait_ns=([0-9]+)$/\1 \2 \3 \4 \5 \6/p' "$SERIAL"
}

# The parts cover the set: one line per part 0..3, each done in full, summing to it.
assert_parts_cover_set() {
	local n=0 sum=0 part cpu bytes done by wait
	while read -r part cpu bytes done by wait; do
		[ "$part" -eq "$n" ] || { echo "part $part out of order" >&2; return 1; }
		[ "$done" -eq "$bytes" ] || { echo "part $part: $done of $bytes" >&2; return 1; }
		sum=$((sum + done))
		n=$((n + 1))
	done < <(parts)
	[ "$n" -eq 4 ] || { echo "$n parts" >&2; return 1; }
	[ "$sum" -eq "$SET" ] || { echo "parts sum to $sum" >&2; return 1; }
}

# by_of PART: the CPU that walked it.
by_of() {
	parts | awk -v p="$1" '$1 == p { print $5 }'
}

@test "every CPU answers: four parts, each walked once by its own CPU, together the set" {
	run guest -- 'crash'
	[ "$status" -eq 0 ]
	grep -q "Kernel panic - not syncing: sysrq triggered crash" "$SERIAL"
	[ "$(grep -cE "$(flush_re 4 0)" "$SERIAL")" -eq 1 ]
	[ "$(grep -c "flushtm: flush hook=" "$SERIAL")" -eq 1 ]	# the notifier did not flush again
	assert_parts_cover_set
	# exactly once: each part by its own CPU, none taken over
	[ "$(parts | awk '$2 != $5' | wc -l)" -eq 0 ]
}

@test "a CPU spinning with interrupts off still answers the NMI and walks its own part" {
	run guest -- 'wedge irqoff 3'
	[ "$status" -eq 0 ]
	grep -q "ftm_wedge: cpu 3 spins with interrupts off" "$SERIAL"
	grep -q "Kernel panic - not syncing: ftm_wedge: cpu 3 wedged (irqoff)" "$SERIAL"
	[ "$(grep -cE "$(flush_re 4 0)" "$SERIAL")" -eq 1 ]
	assert_parts_cover_set
	[ "$(by_of 3)" -eq 3 ]
}

@test "a CPU that takes no NMI: the panicking CPU takes its part over, within the bound" {
	run guest -- 'wedge nmi 3'
	[ "$status" -eq 0 ]
	grep -q "ftm_wedge: cpu 3 spins in an NMI handler" "$SERIAL"
	line=$(grep -E "$(flush_re 3 1)" "$SERIAL")
	[[ $line =~ ns=([0-9]+) ]]
	ns=${BASH_REMATCH[1]}
	assert_parts_cover_set
	[ "$(by_of 3)" -eq 0 ]
	[ "$(by_of 1)" -eq 1 ] && [ "$(by_of 2)" -eq 2 ]
	# waited at most the part's bound, then walked it (at most a quarter of the
	# bound at the measured rate): well inside twice the bound
	wait=$(parts | awk '$1 == 3 { print $6 }')
	echo "flush ns=$ns bound=$wait" >&3
	[ "$ns" -ge "$((wait / 2))" ]	# it did wait for CPU 3
	[ "$ns" -lt "$((2 * wait))" ]
}

@test "crash_split=0: today's walk on the panicking CPU, the line as interface.md has it" {
	PARAMS=crash_split=0 run guest -- 'crash'
	[ "$status" -eq 0 ]
	[ "$(grep -cE "flushtm: flush hook=panic ranges=1 bytes=$SET method=lines ns=[0-9]+ cpu=0\$" "$SERIAL")" -eq 1 ]
	! grep -q "cpus=" "$SERIAL"
}

@test "crash_kexec_post_notifiers, no kdump kernel: split from crash_stop_other_cpus" {
	run guest --append crash_kexec_post_notifiers -- 'crash'
	[ "$status" -eq 0 ]
	[ "$(grep -cE "$(flush_re 4 0)" "$SERIAL")" -eq 1 ]
	assert_parts_cover_set
}

@test "kdump loaded, crash_kexec_post_notifiers: flushed once, on one CPU, before the kdump kernel boots" {
	run guest --timeout 400 --append "crashkernel=192M crash_kexec_post_notifiers" -- '
		kexec -p "$FTM_VM_KERNEL" --initrd="$FTM_VM_INITRD" \
			--append="$(sed "s/crashkernel=[^ ]*//" /proc/cmdline) nr_cpus=1 reset_devices"
		[ "$(cat /sys/kernel/kexec_crash_loaded)" = 1 ]
		crash'
	[ "$status" -eq 0 ]
	[ "$(grep -c "flushtm: flush hook=" "$SERIAL")" -eq 1 ]
	grep -qE "flushtm: flush hook=panic ranges=1 bytes=$SET method=lines ns=[0-9]+ cpu=0\$" "$SERIAL"
	# the flush line, then the kdump kernel's banner (its init found the first run's marker)
	flush_at=$(grep -n "flushtm: flush hook=panic" "$SERIAL" | cut -d: -f1)
	kdump_at=$(grep -n "Linux version" "$SERIAL" | sed -n 2p | cut -d: -f1)
	[ -n "$kdump_at" ] && [ "$flush_at" -lt "$kdump_at" ]
	grep -q "elfcorehdr=" "$SERIAL"
	grep -qx boot "$RUN/share/.vm/boots"
}

@test "crash_budget_ms=1: the walk stops, the bytes left are logged, the panic goes on" {
	run guest -- '
		echo 1 > "$cfs/crash_budget_ms"
		[ "$(cat "$cfs/crash_budget_ms")" = 1 ]
		crash'
	[ "$status" -eq 0 ]
	line=$(grep -E "flushtm: flush hook=panic ranges=1 bytes=[0-9]+ method=lines ns=[0-9]+ cpu=0 cpus=[0-9] taken=[0-9]\$" "$SERIAL")
	[[ $line =~ bytes=([0-9]+) ]]
	done=${BASH_REMATCH[1]}
	left=$(sed -nE 's/.*flushtm: hook=panic crash budget of 1 ms spent: ([0-9]+) bytes left$/\1/p' "$SERIAL")
	[ -n "$left" ] && [ "$left" -gt 0 ]
	[ "$((done + left))" -eq "$SET" ]
	[ "$done" -lt "$SET" ]
	# and the panic went on: status 0 is the guest gone (panic=-1 restarts it at once)
}

@test "crash_budget_ms: auto with its value, milliseconds, 0; junk refused; flushtmctl set and apply" {
	PARAMS= run "$VMRUN" --dir "$RUN" --smp 4 -- env TOP="$TOP" bash -c '
		set -eu
		cfs=/sys/kernel/config/flushtm
		ctl=$TOP/flushtmctl/flushtmctl
		insmod "$TOP/kmod/flushtm.ko"
		echo "fresh $(cat $cfs/crash_budget_ms)"
		mkdir "$cfs/ranges/r0"
		echo 0x20000000 > "$cfs/ranges/r0/start"
		echo 64M > "$cfs/ranges/r0/size"
		echo 1 > "$cfs/ranges/r0/enabled"
		echo "set $(cat $cfs/crash_budget_ms)"
		echo 250 > $cfs/crash_budget_ms; echo "ms $(cat $cfs/crash_budget_ms)"
		echo 0 > $cfs/crash_budget_ms; echo "none $(cat $cfs/crash_budget_ms)"
		for bad in -1 1x " 5" 99999999999999999999 autox; do
			if echo "$bad" > $cfs/crash_budget_ms 2>/dev/null; then echo "took $bad"; fi
		done
		echo "after junk $(cat $cfs/crash_budget_ms)"
		"$ctl" set crash-budget 1500; echo "ctl $(cat $cfs/crash_budget_ms)"
		"$ctl" set crash-budget soon && echo "ctl took soon" || echo "ctl refused soon $?"
		printf "[flushtm]\ncrash_budget_ms = auto\n" > /tmp/c.conf
		"$ctl" apply /tmp/c.conf
		echo "apply $(cat $cfs/crash_budget_ms)"
		printf "[flushtm]\ncrash_budget_ms = 12ms\n" > /tmp/bad.conf
		"$ctl" apply /tmp/bad.conf && echo "apply took 12ms" || echo "apply refused 12ms"
		echo 1 > "$cfs/ranges/r0/enabled"'
	[ "$status" -eq 0 ]
	# no set: auto and the slack alone; with 64 MiB: more, from the measured rate
	[[ "$output" == *"fresh auto 1000"* ]]
	[[ "$output" =~ set\ auto\ (1[0-9]{3,}) ]]
	[[ "$output" == *"ms 250"* ]]
	[[ "$output" == *"none 0"* ]]
	[[ "$output" != *"took "* ]]
	[[ "$output" == *"after junk 0"* ]]
	[[ "$output" == *"ctl 1500"* ]]
	[[ "$output" == *"ctl refused soon 2"* ]]
	[[ "$output" =~ apply\ auto\ [0-9]+ ]]
	[[ "$output" == *"apply refused 12ms"* ]]
	grep -q "crash_budget_ms: expected auto, 0 or milliseconds" "$SERIAL"
}
